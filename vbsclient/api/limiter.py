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
round at a time (vbsclient.api.rounds):

- the first answer is not a measurement: it carries one-off costs (a
  new connection, the server checking a token it has not seen: 0.6 s
  instead of 0.07 s, measured). It is sent alone: 4 first requests at
  once would each make the server check the token;
- then the most at once (32, a burst, rated by its answers over its
  time). A server that serves them all at once answers each about as
  fast as the fastest (rounds.FLAT): the run stays there. Behind
  latency a round takes about one answer's time, and each round spent
  below the top costs a fast server's run that round: 200 deletes behind
  50 ms took 1.4 times --parallel 32 with a climb through 16 (on an idle
  machine; the floor with the first request alone is 1.16);
- a burst that queued at the server (its answers came one after another)
  is followed by one at a time: a server that works one request at a
  time gives the same rate, or less, whatever is in flight, and the run
  goes back to one. More in flight cost such a server little rate for a
  round or two (its answers only wait longer). If one at a time does
  not do as well, the number halves from the top while the fewer do as
  well (within 15 %, more than a round's noise);
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
needs no model of the server, only the rate.

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

import logging
import threading
import time

from vbsclient.api.rounds import Rounds
from vbsclient.api.verdict import Verdict

LOG = logging.getLogger(__name__)

DEFAULT_MAX = 32
MIN_ROUND = 4     # answers per round, at the least
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


class RateCap:
    """Throttling's answer: a cap on the sending rate, 70 % of what got
    through (cut once a window), rising by a tenth each round delivered
    without throttling; and a hold of every request for as long as a
    Retry-After says. The adaptive limit's; its caller holds the lock.
    """

    def __init__(self):
        self.next_send = 0.0    # the cap's, and Retry-After's, hold
        self.max_rate = None    # answers per second; None: no cap
        self._cut_at = 0        # tickets sent at the last cut

    def hold(self, now):
        return self.next_send - now

    def sent(self, now):
        if self.max_rate:
            self.next_send = now + 1 / self.max_rate

    def throttled(self, now, number, retry_after, sent, got_through):
        """A throttled answer to ticket `number`; True if it cuts."""
        # Every throttled answer holds every request as it says...
        self.next_send = max(self.next_send, now + (retry_after or 0))
        if number <= self._cut_at:
            # ...but the rate is cut once a window, as TCP does once a
            # round trip: the answers to requests sent before the last
            # cut tell of the rate before it.
            return False
        self._cut_at = sent
        rate = got_through or 1.0
        self._set(max(0.1, THROTTLE_BACKOFF * min(
            rate, self.max_rate or rate)), 'the server is throttling')
        return True

    def delivered(self, got_through):
        """A round without throttling: the cap rises, and goes once it
        is far above what gets through (it no longer binds).
        """
        if self.max_rate:
            raised = self.max_rate * RATE_RECOVERY
            self._set(None if raised > CAP_LIFTED * got_through else raised,
                      'a round without throttling')

    def _set(self, rate, reason):
        if rate != self.max_rate:
            LOG.debug('VBS requests a second: at most %s (%s)',
                      'any' if rate is None else '%.1f' % rate, reason)
            self.max_rate = rate


class AdaptiveLimit(_Gate):
    """Between 1 and `maximum` requests in flight, adapted as above."""

    def __init__(self, maximum=DEFAULT_MAX, clock=time.monotonic):
        super().__init__(clock)
        self.maximum = maximum
        self.limit = 1
        self.rounds = Rounds()
        self.cap = RateCap()
        self._phase = self._cold
        self._settled = None     # the number a probe returns to
        self._rounds_settled = 0  # since the last probe
        self._probe_every = PROBE_EVERY
        self._probe_up = True    # the next probe's direction

    def _wait(self, now):
        hold = self.cap.hold(now)
        if hold > 0:
            return hold
        return 0 if self._in_flight < self.limit else None

    def _ticket(self, now):
        self.cap.sent(now)
        return now, self.rounds.ticket(now), self._in_flight

    def release(self, ticket, judgement=None):
        """The request of `ticket` (what acquire returned) ended as
        `judgement` says (a vbsclient.api.verdict.Judgement; None: it was
        never judged). Only an answer to the request itself is measured:
        a fault, no answer, or a 401 (a token that a retry renews) says
        nothing of the server's throughput; only throttling slows the
        run.
        """
        now = self.clock()
        started, number, in_flight = ticket
        verdict = judgement.verdict if judgement else None
        with self._condition:
            self._in_flight -= 1
            if verdict is Verdict.THROTTLED:
                self._throttled(now, number, judgement.retry_after)
            elif verdict in (Verdict.SUCCESS, Verdict.FINAL) \
                    and judgement.answered:
                self.rounds.answered(now, number, started, in_flight)
                if self.rounds.measured >= self._round_size():
                    self._end_round(now)
            # Wake only as many as may send now: with 32 threads waiting
            # and one in flight, waking them all for every answer costs
            # the CPU a server on the same machine needs (0.17 s for 200
            # requests, measured). A hold wakes its waiters by timeout.
            self._condition.notify(max(1, self.limit - self._in_flight))

    def _throttled(self, now, number, retry_after):
        if self.cap.throttled(now, number, retry_after, self.rounds.sent,
                              self.rounds.getting_through(now)):
            # Rates measured before say nothing of a capped run.
            self.rounds.forget()
            self._change(max(1, self.limit // 2), 'the server is throttling')
            self._settle(self.limit)

    def _end_round(self, now):
        rate = self.rounds.end(now)
        self.cap.delivered(self.rounds.got_through)
        self._phase(rate)

    # -- the phases: each takes the rate of the round just ended --------------

    def _round_size(self):
        if self._phase == self._cold:
            return 1
        return max(self.limit, MIN_ROUND)

    def _cold(self, rate):
        self._phase = self._burst
        self._change(self.maximum, 'starting', rate)

    def _burst(self, rate):
        """The most at once: kept where the server served them all at
        once; else one at a time is measured.
        """
        self.rounds.remember(self.limit, self.rounds.burst_rate or rate)
        if self.rounds.flat or self.limit == 1:
            self._settle(self.limit, 'settled', rate)
        else:
            self._phase = self._one_at_a_time
            self._change(1, 'measuring one at a time', rate)

    def _one_at_a_time(self, rate):
        self.rounds.remember(self.limit, rate)
        fewest = self.rounds.fewest_for_the_best()
        if fewest == 1 or self.maximum < 4:
            self._settle(fewest, 'settled', rate)
        else:
            self._phase = self._halving
            self._change(self.maximum // 2, 'halving', rate)

    def _halving(self, rate):
        """Halve while the fewer do as well as the best."""
        self.rounds.remember(self.limit, rate)
        fewest = self.rounds.fewest_for_the_best()
        if fewest == self.limit and self.limit // 2 > 1:
            self._change(self.limit // 2, 'halving', rate)
        else:
            self._settle(fewest, 'settled', rate)

    def _steady(self, rate):
        self.rounds.remember(self.limit, rate)
        if self.limit != self._settled:  # a probe's round
            before = self._settled
            self._settle(self.rounds.fewest_for_the_best(), 'steady', rate)
            # A neighbour that did not pay is tried again later and later:
            # each try costs, most of all where one at a time is best.
            self._probe_every = (
                PROBE_EVERY if self.limit != before
                else min(PROBE_EVERY_MOST, self._probe_every * 2))
            return
        self._rounds_settled += 1
        if self._rounds_settled >= self._probe_every:
            self._change(self._neighbour(), 'probing', rate)

    # -- helpers --------------------------------------------------------------

    def _neighbour(self):
        """The next number up and the next down, in turn."""
        self._probe_up = not self._probe_up
        if not self._probe_up and self.limit > 1:
            return self.limit // 2
        return min(self.maximum, self.limit * 2)

    def _settle(self, limit, reason=None, rate=None):
        if reason:
            self._change(limit, reason, rate)
        self._settled = self.limit
        self._rounds_settled = 0
        self._phase = self._steady

    def _change(self, limit, reason, rate=None):
        if limit != self.limit:
            LOG.debug('VBS requests in flight: %d -> %d (%s; %.1f answers '
                      'a second)', self.limit, limit, reason, rate or 0.0)
            self.limit = limit
