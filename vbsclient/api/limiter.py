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

"""How many requests a run keeps in flight, and how fast it sends.

A fixed number is wrong for one cloud or another. Against a server that
handles one request at a time (Cinder's eventlet API with one worker),
every request added in flight only queues there and makes each slower:
measured on the local cloud, 4 in flight took 1.1 to 1.6 times as long
as one at a time for the same backups. Behind 50 ms of network latency,
16 in flight made the run 2.8 times faster than one at a time.

So the default measures what it gets. What a run wants is the rate at
which answers come (backups deleted a second), and the fewest requests in
flight that reach it: more only queue at the server, and slow it for
everyone else. The run measures the rate at each number it tries, a
round at a time (BBR's delivery rate: for each answer, the answers that
came while it was out, over its time; the median of a round's answers):

- the first answer is not a measurement: it carries one-off costs (a
  new connection, the server checking a token it has not seen: 0.6 s
  instead of 0.07 s, measured). It is sent alone: 4 first requests at
  once would each make the server check the token;
- then one request at a time, the baseline; then 4, 8, 16, 32, doubling
  while doubling pays: while the rate grows by at least 15 % (more than
  a round's noise). A server that works one request at a time gives the
  same rate, or less, whatever is in flight: more only queue there, so
  the run stays at one. (A rule that climbed while the rate merely did
  not fall went up to 8 or 32 there, at a cost of 10 to 20 % of the wall
  time.)
- then it settles on the fewest in flight that no more in flight beat by
  15 %. A number's rate is the median of its latest five rounds. After
  eight rounds it tries the next number up or down, in turn, and moves
  there if that does better (up: a rate 15 % higher; down: a rate that
  the current number does not beat by 15 %). A try that does not pay
  doubles the wait before the next (up to 64 rounds): each try costs,
  most where one at a time is best.

TCP's BBR sizes what it keeps in flight from the rate and the fastest
answer (their product, twice); that was tried first. It cannot tell a
server that queues everything from one behind a slow network once both
have a queue: the fastest answer then includes the queue. Latency rules
(TCP Vegas, Netflix's concurrency-limits) stop as soon as answers slow
down, even where the rate still grows; loss rules (AIMD) never stop
against a server that answers every request. A throughput hill-climb
over powers of two needs no model of the server, only the rate.

Throttling (429, 413, or a 503 with Retry-After: see
vbsclient.api.verdict) is the server saying "slower", not "fewer": like
the AWS SDKs' adaptive retry mode, it caps the sending rate at 70 % of
what got through, which then grows by a tenth each round delivered
without throttling; the number in flight halves; a Retry-After holds
every request for that long. The cut comes once a window, as TCP's once
a round trip: the throttled answers to requests sent before the last
cut tell of the rate before it. A fault (a 503 without Retry-After, a
reset, a timeout) is not throttling: it is retried and leaves the rate
alone. Under 20 % of random 503s, taking each for throttling sank a run
to 0.2 requests a second.

An explicit --parallel N is a FixedLimit: N in flight, whatever happens.
"""

import collections
import logging
import statistics
import threading
import time

from vbsclient.api.verdict import Verdict

LOG = logging.getLogger(__name__)

DEFAULT_MAX = 32
# Where growth starts, after the round at one.
INITIAL = 4
MIN_ROUND = 4     # answers per round, at the least
# More in flight must buy this much more rate, or it only queues at the
# server. A round's rate is noisy (at 1 in flight on the local cloud's
# eventlet API, rounds ranged from 0.8 to 1.3 times their median): a
# number's rate is the median of its latest rounds, and a gain smaller
# than this is not taken for one.
GAIN = 1.15
REMEMBERED = 5    # rounds per number whose median is its rate
PROBE_EVERY = 8   # rounds between tries of a neighbouring number, at first
PROBE_EVERY_MOST = 64  # each try that does not pay doubles the wait
THROTTLE_BACKOFF = 0.7
RATE_RECOVERY = 1.1
CAP_LIFTED = 4.0  # a cap this many times the delivered rate binds no more


class _Gate:
    """Where requests wait for their turn to be sent.

    acquire() waits until the request may go, and returns its ticket; or
    None, sending nothing, once the run stops (wake() tells waiters at
    once) or the request's own deadline passes: time spent waiting here
    is part of a backup's budget.
    """

    def __init__(self, clock):
        self.clock = clock
        self._condition = threading.Condition()
        self._in_flight = 0

    def acquire(self, stop=None, deadline=None):
        with self._condition:
            while True:
                now = self.clock()
                if (stop is not None and stop.is_set()) or \
                        (deadline is not None and now >= deadline):
                    return None
                wait = self._wait(now)  # 0: go; None: until woken
                if wait == 0:
                    break
                if deadline is not None:
                    wait = min(deadline - now, wait or deadline - now)
                self._condition.wait(wait)
            self._in_flight += 1
            return self._ticket(now)

    def wake(self):
        with self._condition:
            self._condition.notify_all()


class FixedLimit(_Gate):
    """Exactly `limit` requests in flight."""

    def __init__(self, limit, clock=time.monotonic):
        super().__init__(clock)
        self.limit = limit

    def _wait(self, now):
        return 0 if self._in_flight < self.limit else None

    def _ticket(self, now):
        return (now,)

    def release(self, ticket, judgement=None):
        with self._condition:
            self._in_flight -= 1
            self._condition.notify()


class AdaptiveLimit(_Gate):
    """Between 1 and `maximum` requests in flight, adapted as above."""

    def __init__(self, maximum=DEFAULT_MAX, clock=time.monotonic):
        super().__init__(clock)
        self.maximum = maximum
        self.limit = 1
        self._next_send = 0.0    # the rate cap's, and Retry-After's, hold
        self._max_rate = None    # answers per second; None: no cap
        self._cut_at = 0         # requests sent (by _sent) at the last cut
        self._last_rate = None   # of the last round, or the last answer
        self._delivered = 0      # answers so far
        self._sent = 0           # requests so far
        self._round_from = 0     # the first request (by _sent) of a round
        self._round_samples = []  # delivery rates of this round's answers
        self._rates = {}         # number in flight -> its latest rounds' rates
        self._phase = self._cold
        self._settled = None     # the number a probe returns to
        self._rounds_settled = 0  # since the last probe
        self._probe_every = PROBE_EVERY
        self._probe_up = True    # the next probe's direction

    def _wait(self, now):
        hold = self._next_send - now
        if hold > 0:
            return hold
        return 0 if self._in_flight < self.limit else None

    def _ticket(self, now):
        self._sent += 1
        if self._max_rate:
            self._next_send = now + 1 / self._max_rate
        return now, self._delivered, self._sent

    def release(self, ticket, judgement=None):
        """The request of `ticket` (what acquire returned) ended as
        `judgement` says (a vbsclient.api.verdict.Judgement; None: it was
        never judged). Only an answer delivers: a fault, or no answer,
        says nothing of the server's throughput, and only throttling
        slows the run.
        """
        now = self.clock()
        started, delivered_before, number = ticket
        verdict = judgement.verdict if judgement else None
        with self._condition:
            self._in_flight -= 1
            if verdict is Verdict.THROTTLED:
                self._throttled(now, number, judgement.retry_after)
            elif judgement is not None and judgement.answered \
                    and verdict is not Verdict.FAULT:
                self._answered(now, started, delivered_before, number)
            # Wake only as many as may send now: with 32 threads waiting
            # and one in flight, waking them all for every answer costs
            # the CPU a server on the same machine needs (0.17 s for 200
            # requests, measured). A hold wakes its waiters by timeout.
            self._condition.notify(max(1, self.limit - self._in_flight))

    def _answered(self, now, started, delivered_before, number):
        latency = max(now - started, 1e-6)
        self._delivered += 1
        sample = (self._delivered - delivered_before) / latency
        if self._last_rate is None:
            self._last_rate = sample
        # A round measures only requests sent since it began: those sent
        # before went out under another number.
        if number > self._round_from:
            self._round_samples.append(sample)
        if len(self._round_samples) >= self._round_size():
            self._end_round()

    def _throttled(self, now, number, retry_after):
        # Every throttled answer holds every request as it says...
        self._next_send = max(self._next_send, now + (retry_after or 0))
        if number <= self._cut_at:
            # ...but the rate is cut once a window, as TCP does once a
            # round trip: the answers to requests sent before the last
            # cut tell of the rate before it.
            return
        self._cut_at = self._sent
        rate = self._last_rate or 1.0
        self._cap(max(0.1, THROTTLE_BACKOFF * min(
            rate, self._max_rate or rate)), 'the server is throttling')
        # Rates measured before say nothing of a capped run.
        self._rates.clear()
        self._change(max(1, self.limit // 2), 'the server is throttling')
        self._settle(self.limit)

    def _cap(self, rate, reason):
        if rate != self._max_rate:
            LOG.debug('VBS requests a second: at most %s (%s)',
                      'any' if rate is None else '%.1f' % rate, reason)
            self._max_rate = rate

    def _end_round(self):
        # The median: one answer's luck does not move it.
        rate = self._last_rate = statistics.median(self._round_samples)
        self._round_samples = []
        self._round_from = self._sent
        if self._max_rate:
            # Delivered without throttling: the cap rises, and goes once
            # it is far above what is delivered (it no longer binds).
            raised = self._max_rate * RATE_RECOVERY
            self._cap(None if raised > CAP_LIFTED * rate else raised,
                      'a round without throttling')
        self._phase(rate)

    # -- the phases: each takes the rate of the round just ended --------------

    def _round_size(self):
        if self._phase == self._cold:
            return 1
        return max(self.limit, MIN_ROUND)

    def _cold(self, rate):
        self._phase = self._climbing  # the next round: one at a time

    def _climbing(self, rate):
        """Double while doubling pays; then settle."""
        before = self._rate_at(self.limit // 2) if self.limit > 1 else None
        self._remember(rate)
        if self.limit == 1:
            self._change(min(INITIAL, self.maximum), 'starting')
        elif (rate < GAIN * (before or self._rate_at(1))
                or self.limit >= self.maximum):
            self._settle(self._fewest_for_the_best(), 'settled')
        else:
            self._change(min(self.maximum, self.limit * 2), 'starting')

    def _steady(self, rate):
        self._remember(rate)
        if self.limit != self._settled:  # a probe's round
            before = self._settled
            self._settle(self._fewest_for_the_best(), 'steady')
            # A neighbour that did not pay is tried again later and later:
            # each try costs, most of all where one at a time is best.
            self._probe_every = (
                PROBE_EVERY if self.limit != before
                else min(PROBE_EVERY_MOST, self._probe_every * 2))
            return
        self._rounds_settled += 1
        if self._rounds_settled >= self._probe_every:
            self._change(self._neighbour(), 'probing')

    # -- helpers --------------------------------------------------------------

    def _remember(self, rate):
        self._rates.setdefault(
            self.limit, collections.deque(maxlen=REMEMBERED)).append(rate)

    def _rate_at(self, limit):
        """The median of the latest rounds at `limit` (None: not tried)."""
        rounds = self._rates.get(limit)
        return statistics.median(rounds) if rounds else None

    def _fewest_for_the_best(self):
        """The fewest in flight that more would not beat by GAIN."""
        rates = {n: self._rate_at(n) for n in self._rates}
        best = max(rates.values())
        return min(n for n, rate in rates.items() if rate * GAIN >= best)

    def _neighbour(self):
        """The next number up and the next down, in turn."""
        self._probe_up = not self._probe_up
        if not self._probe_up and self.limit > 1:
            return self.limit // 2
        return min(self.maximum, self.limit * 2)

    def _settle(self, limit, reason=None):
        if reason:
            self._change(limit, reason)
        self._settled = self.limit
        self._rounds_settled = 0
        self._phase = self._steady

    def _change(self, limit, reason):
        if limit != self.limit:
            LOG.debug('VBS requests in flight: %d -> %d (%s; %.1f answers '
                      'a second)', self.limit, limit, reason,
                      self._last_rate or 0.0)
            self.limit = limit
