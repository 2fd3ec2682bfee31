#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The bounded, order-keeping parallel map (vbsclient.api.concurrency)."""

import random
import threading
import time

import pytest

from vbsclient.api import concurrency


class Tracked:
    """A func that records how many calls run at once, and what ran."""

    def __init__(self, pause=lambda item: 0.0):
        self.running = self.most = 0
        self.started = []
        self.threads = set()
        self._pause = pause
        self._lock = threading.Lock()

    def __call__(self, item):
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.started.append(item)
            self.threads.add(threading.get_ident())
        time.sleep(self._pause(item))
        with self._lock:
            self.running -= 1
        return item * 10


@pytest.mark.parametrize('workers', [1, 3, 8])
def test_results_come_in_input_order_whatever_order_calls_end(workers):
    shuffled = random.Random(workers)
    delays = {n: shuffled.random() / 100 for n in range(40)}
    func = Tracked(delays.get)
    assert list(concurrency.ordered_map(func, range(40), workers)) == [
        n * 10 for n in range(40)]
    assert 1 < func.most <= workers or workers == 1 and func.most == 1


def test_one_worker_runs_strictly_one_after_the_other():
    func = Tracked(lambda item: 0.002)
    list(concurrency.ordered_map(func, range(10), 1))
    assert func.most == 1
    assert func.started == list(range(10))
    assert len(func.threads) == 1


def test_the_input_is_read_lazily_at_most_a_window_ahead():
    read = []

    def items():
        for n in range(1000):
            read.append(n)
            yield n
    results = concurrency.ordered_map(lambda n: n, items(), 4)
    assert next(results) == 0
    assert len(read) <= concurrency.READ_AHEAD * 4 + 1  # not all of it
    assert list(results) == list(range(1, 1000))


def test_after_the_stop_nothing_starts_and_the_rest_is_skipped_in_order():
    stop = threading.Event()

    def func(item):
        if item == 3:
            stop.set()
        return ('done', item)
    results = list(concurrency.ordered_map(
        func, range(20), 1, stop=stop, skipped=lambda item: ('skipped', item)))
    assert results == [('done', n) for n in range(4)] + [
        ('skipped', n) for n in range(4, 20)]


def test_calls_in_flight_at_the_stop_finish_and_keep_their_place():
    stop = threading.Event()
    release = threading.Event()

    def func(item):
        if item == 0:
            stop.set()
            release.wait(5)
        return ('done', item)
    results = concurrency.ordered_map(
        func, range(10), 4, stop=stop, skipped=lambda item: ('skipped', item))
    release.set()
    results = list(results)
    assert results[0] == ('done', 0)
    assert [r[1] for r in results] == list(range(10))  # one each, in order
    assert results[-1] == ('skipped', 9)


def test_a_stop_set_before_the_start_calls_nothing():
    stop = threading.Event()
    stop.set()
    func = Tracked()
    assert list(concurrency.ordered_map(
        func, 'abc', 2, stop=stop, skipped=str.upper)) == ['A', 'B', 'C']
    assert func.started == []


def test_an_exception_of_func_reaches_the_consumer_in_its_place():
    def func(item):
        if item == 2:
            raise KeyError(item)
        return item
    results = concurrency.ordered_map(func, range(5), 2)
    assert [next(results), next(results)] == [0, 1]
    with pytest.raises(KeyError):
        next(results)


def test_closed_early_it_starts_nothing_more():
    func = Tracked(lambda item: 0.01)
    results = concurrency.ordered_map(func, range(100), 2)
    assert next(results) == 0
    results.close()
    started = len(func.started)
    time.sleep(0.1)
    assert len(func.started) == started <= 2 * 2 + 1


def test_workers_go_on_a_window_ahead_of_a_slow_head():
    # A retried backup at the head of the results must not starve the
    # workers: they go on with what was read ahead of it.
    head_done, started = threading.Event(), []

    def func(n):
        started.append(n)
        if n == 0:
            head_done.wait(5)
        return n
    results = concurrency.ordered_map(func, iter(range(1000)), 4)
    reader = threading.Thread(target=lambda: next(results))
    reader.start()
    deadline = time.monotonic() + 5
    while len(started) < concurrency.READ_AHEAD * 4 \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # none beyond the window
    assert sorted(started) == list(range(concurrency.READ_AHEAD * 4))
    head_done.set()
    reader.join()
    assert list(results) == list(range(1, 1000))
