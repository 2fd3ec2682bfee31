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

"""The rate a run gets at each number in flight, measured a round at a
time, for the adaptive limit (vbsclient.api.limiter).

An answer's rate is Little's law turned around: the requests that were
in flight when it was sent (itself among them) over its time. It is the
rate of the number in flight now, not of an earlier one, and it holds
for a burst too: the k-th request of a burst sent to a server that
works one at a time waits for the k - 1 before it, and reads k over k
times one answer's time. The delivery rate used before (the answers that
came while it was out, over its time) is a round late behind latency:
those answers were sent at the number before, so the rate of 32 in
flight read as that of 16 (measured behind 50 ms: 177 a second where 32
in flight delivered 360), and the climb stopped short. Only answers
count: a fault or a timeout says nothing of the rate and leaves it
alone.

A burst from nothing (the first round after the first answer) is the
exception: its k-th request reads k over one answer's time behind
latency, where all of them were out. Its rate is its answers over its
time, which is right for either server.

A round measures only requests sent since it began (those sent before
went out under another number); its rate is the median of its answers'.
A number's rate is the median of its latest REMEMBERED rounds.
"""

import collections
import statistics

# More in flight must buy this much more rate, or it only queues at the
# server. A round's rate is noisy (at 1 in flight on the local cloud's
# eventlet API, rounds ranged from 0.8 to 1.3 times their median): a
# gain smaller than this is not taken for one.
GAIN = 1.15
REMEMBERED = 5    # rounds per number whose median is its rate
# A round whose median answer took at most this many times its fastest
# was not queued at the server: all its requests were served at once. A
# burst at a server that serves c at a time reads about n / c for n sent
# (one at a time: n / 2); behind 50 ms of latency, 32 sent at once from
# this 2-CPU machine read 1.1 to 1.2.
FLAT = 2.0


class Rounds:
    """What one adaptive limit measures; its caller holds the lock."""

    def __init__(self):
        self.sent = 0             # tickets so far
        self.got_through = None   # answers a second over the last round
        self.burst_rate = None    # the last round's, taken as one burst
        self._round_from = 0      # tickets up to this one are not the round's
        self._round_began = None
        self._round_answers = 0   # answers (of any ticket) this round
        self._samples = []        # this round's answers' rates
        self._latencies = []      # and their times
        self.flat = False         # the last round's answers not queued
        self._rates = {}          # number in flight -> its latest rounds
        self._began = None        # the first ticket's time
        self._answers = 0         # answers of the run so far
        self._ended = 0           # rounds ended

    def ticket(self, now):
        """A request goes out: its number."""
        self.sent += 1
        if self._round_began is None:
            self._round_began = self._began = now
        return self.sent

    def answered(self, now, number, started, in_flight):
        """The request of ticket `number`, sent at `started` with
        `in_flight` requests out (itself among them), got an answer.
        """
        latency = max(now - started, 1e-6)
        self._round_answers += 1
        self._answers += 1
        if number > self._round_from:
            self._samples.append(in_flight / latency)
            self._latencies.append(latency)

    @property
    def measured(self):
        """Answers of this round so far."""
        return len(self._samples)

    def end(self, now):
        """End the round: its rate; the next round begins."""
        rate = statistics.median(self._samples)
        began = now if self._round_began is None else self._round_began
        elapsed = now - began
        if elapsed > 0:
            self.got_through = self._round_answers / elapsed
            # Of a round sent as one burst: its answers over its time.
            self.burst_rate = len(self._samples) / elapsed
        self._ended += 1
        self.flat = (statistics.median(self._latencies)
                     <= FLAT * min(self._latencies))
        self._samples, self._latencies = [], []
        self._round_from = self.sent
        self._round_began = now
        self._round_answers = 0
        return rate

    def getting_through(self, now):
        """Answers a second that get through: the last round's; before
        a round after the first answer has ended (throttled in the first
        burst), all answers so far over the run's time, not the first
        answer's own rate (which carries one-off costs).
        """
        if self._ended > 1 or self._began is None or now <= self._began:
            return self.got_through
        return self._answers / (now - self._began)

    def remember(self, limit, rate):
        self._rates.setdefault(
            limit, collections.deque(maxlen=REMEMBERED)).append(rate)

    def forget(self):
        """Rates measured so far say nothing of what follows (a cap)."""
        self._rates.clear()

    def rate_at(self, limit):
        """The median of the latest rounds at `limit` (None: not tried)."""
        rounds = self._rates.get(limit)
        return statistics.median(rounds) if rounds else None

    def fewest_for_the_best(self):
        """The fewest in flight that more would not beat by GAIN."""
        rates = {n: self.rate_at(n) for n in self._rates}
        best = max(rates.values())
        return min(n for n, rate in rates.items() if rate * GAIN >= best)
