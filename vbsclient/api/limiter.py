"""How many requests a run keeps in flight, and how fast it sends.

A fixed number is wrong for one cloud or another. Against a server that
handles one request at a time (Cinder's eventlet API with one worker),
every request added in flight only queues there, and makes each slower:
measured, 8 in flight took each DELETE from 20 ms to 280 ms, so the run
was slower than one request at a time. Behind 50 ms of network latency
the same 8 make the run six times faster.

The default adapts the way TCP BBR sizes what it keeps in flight: as the
product of the two things it measures, the rate at which answers come
(the bottleneck's throughput, the best of recent rounds) and the fastest
answer (the time without any queue). Their product is the number of
requests the path holds without a queue: about 1 for a server that works
one at a time, about 4 for a 20 ms server 50 ms away. Like BBR, up to
twice that is kept in flight (answers come in bursts, and a server with a
few threads still gains from a short queue); more only queues, fewer
leaves throughput unused. Like BBR it starts small (4) and doubles while
the rate still grows by a quarter a round, then settles (below),
and probes a quarter above it now and then in case the server got faster.

Latency-based rules (TCP Vegas, Netflix's concurrency-limits) were tried
first: they stop growing as soon as answers slow down, even where the
rate still grows, and fell short behind latency. Loss-based AIMD never
stops growing against a server that answers every request, only later.

Throttling (429, 413, 503) is the server saying "slower", not "fewer":
like the AWS SDKs' adaptive retry mode, it caps the sending rate at 70 %
of what got through, which then grows by a tenth each round without
throttling; the number in flight halves; a Retry-After holds every
request for that long.

An explicit --parallel N is a FixedLimit: N in flight, whatever happens.
"""

import collections
import logging
import threading
import time

LOG = logging.getLogger(__name__)

DEFAULT_MAX = 32
# Where a run starts (BBR starts at 10 packets): a few rounds at 4 cost a
# server that works one at a time next to nothing, and save a slow
# network's first round trips.
INITIAL = 4
THROTTLED = frozenset((413, 429, 503))
MIN_ROUND = 4          # answers per round, at the least
RATE_ROUNDS = 10       # rounds the best rate is taken from
STARTUP_GROWTH = 1.25  # a doubling must raise the rate this much
# BBR's ProbeBW cycle, without its 0.75 phase: that drains the queue a
# probe built up at a paced rate; a limit back at 1 lets it drain anyway.
PROBE_GAINS = (1.25, 1, 1, 1, 1, 1, 1, 1)
# BBR keeps up to twice the product in flight: answers come in bursts,
# and a server with a few threads still gains from a short queue.
IN_FLIGHT_GAIN = 2
THROTTLE_BACKOFF = 0.7
RATE_RECOVERY = 1.1


class FixedLimit:
    """Exactly `limit` requests in flight."""

    def __init__(self, limit):
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def acquire(self):
        self._slots.acquire()

    def release(self, ticket, method=None, status=None, retry_after=None):
        self._slots.release()


class AdaptiveLimit:
    """Between 1 and `maximum` requests in flight, adapted as above."""

    def __init__(self, maximum=DEFAULT_MAX, clock=time.monotonic):
        self.maximum = maximum
        self.limit = min(INITIAL, maximum)
        self.clock = clock
        self._condition = threading.Condition()
        self._in_flight = 0
        self._next_send = 0.0    # the rate cap's, and Retry-After's, hold
        self._max_rate = None    # answers per second; None: no cap
        self._fastest = {}       # method -> seconds
        self._methods = collections.Counter()  # this round's
        self._rates = collections.deque(maxlen=RATE_ROUNDS)
        self._delivered = 0      # answers so far
        self._round_samples = []  # delivery rates of this round's answers
        self._starting = True
        self._best_start_rate = None  # the first round only measures
        self._knee = 1  # the limit whose rate beat a lower one's
        self._stalled = 0
        self._cycle = 0

    def acquire(self):
        with self._condition:
            while True:
                hold = self._next_send - self.clock()
                if hold > 0:
                    self._condition.wait(hold)
                elif self._in_flight >= self.limit:
                    self._condition.wait()
                else:
                    break
            self._in_flight += 1
            now = self.clock()
            if self._max_rate:
                self._next_send = now + 1 / self._max_rate
            return now, self._delivered

    def release(self, ticket, method=None, status=None, retry_after=None):
        """The request of `ticket` (what acquire returned) ended with
        `status` (None: no answer, which says nothing of the server's
        throughput)."""
        now = self.clock()
        started, delivered_before = ticket
        with self._condition:
            self._in_flight -= 1
            if status in THROTTLED:
                self._throttled(now, retry_after)
            elif status is not None:
                latency = max(now - started, 1e-6)
                self._delivered += 1
                # BBR's delivery rate: answers that came while this one
                # was out, over its time; bursts cannot inflate it.
                self._round_samples.append(
                    (self._delivered - delivered_before) / latency)
                self._fastest[method] = min(
                    self._fastest.get(method, latency), latency)
                self._methods[method] += 1
                if len(self._round_samples) >= max(self.limit, MIN_ROUND):
                    self._end_round()
            self._condition.notify_all()

    def _throttled(self, now, retry_after):
        rate = self._rates[-1] if self._rates else 1 / max(
            self._fastest.values(), default=1.0)
        self._max_rate = max(0.1, THROTTLE_BACKOFF * min(
            rate, self._max_rate or rate))
        self._next_send = max(self._next_send, now + (retry_after or 0))
        self._starting = False
        self._knee = max(1, self._knee // 2)
        self._change(max(1, self.limit // 2), 'the server is throttling: '
                     'at most %.1f requests a second' % self._max_rate)

    def _end_round(self):
        samples = sorted(self._round_samples)
        rate = samples[len(samples) // 2]  # the median: one answer's luck
        self._rates.append(rate)           # does not move it
        method = self._methods.most_common(1)[0][0]
        self._round_samples = []
        self._methods.clear()
        if self._max_rate:
            self._max_rate *= RATE_RECOVERY
        if self._starting:
            self._start(rate, method)
        else:
            gain = PROBE_GAINS[self._cycle % len(PROBE_GAINS)]
            self._cycle += 1
            self._change(self._in_the_path(method, gain),
                         'probing' if gain > 1 else 'steady')

    def _start(self, rate, method):
        """Double while the rate still grows; then settle."""
        if self._best_start_rate is None or \
                rate >= self._best_start_rate * STARTUP_GROWTH:
            if self._best_start_rate is not None:
                self._knee = self.limit
            self._best_start_rate, self._stalled = rate, 0
            self._change(min(self.maximum, self.limit * 2), 'starting')
            return
        self._stalled += 1
        if self._stalled >= 2:
            self._starting = False
            self._change(self._in_the_path(method, 1), 'settled')

    def _in_the_path(self, method, gain):
        """Best recent rate x fastest answer: what the path holds (twice
        that, as BBR keeps), and no less than the limit that gave the best
        rate while starting: a server with a few threads behind a slow
        network still gains beyond what one bottleneck would hold."""
        held = max(self._rates) * self._fastest[method] * IN_FLIGHT_GAIN
        return max(1, min(self.maximum, round(max(held, self._knee) * gain)))

    def _change(self, limit, reason):
        if limit != self.limit:
            LOG.debug('VBS requests in flight: %d -> %d (%s; %.1f answers '
                      'a second)', self.limit, limit, reason,
                      self._rates[-1] if self._rates else 0.0)
            self.limit = limit
