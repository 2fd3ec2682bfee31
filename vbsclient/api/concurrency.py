"""Bounded, order-keeping parallel map for streams of work."""

import collections
from concurrent import futures


def ordered_map(func, items, workers):
    """Yield func(item) for each item, in input order, `workers` at a time.

    Items are read lazily and at most 2 x workers are in flight or waiting
    to be yielded, so memory stays flat however long the input is. With
    workers == 1 everything runs strictly one after the other.
    """
    window = collections.deque()
    with futures.ThreadPoolExecutor(max_workers=workers) as pool:
        try:
            for item in items:
                window.append(pool.submit(func, item))
                if len(window) >= 2 * workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            # Stopped early (the consumer closed us, or an error): drop
            # what has not started; what runs already finishes.
            for future in window:
                future.cancel()
