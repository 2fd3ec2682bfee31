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

"""The one way every request of a run goes out.

A run is one command, or one library caller's batch. Every request it
makes (a DELETE, a GET, a list page, a lookup, the check of what a 404
means, the re-send of a chain's parent) goes through Pipeline.send, and
each attempt through the same steps:

    stop? given up? -> a slot (limiter) -> stop? deadline? gate? -> send
    -> classify the answer (vbsclient.api.verdict) -> release the slot
    -> retry (a fault, throttling, an expired token) or not

So a stop, a deadline, a Retry-After or an odd answer is honoured the
same way on every path. Nothing raises past the release of a slot: an
unexpected error becomes the request's failure. Every wait (for a slot,
a Retry-After hold, a back-off pause, a token's verdict) wakes on the
stop, and nothing is sent after it.

A request may carry a gate, asked once it has its slot, just before it
is sent: the last moment to hold a chain's parent back
(vbsclient.api.volume_records.VolumeRecords.gate).
"""

import dataclasses
import logging
import random
import threading
import time

from vbsclient.api import errors
from vbsclient.api import guards
from vbsclient.api import limiter as limiter_module
from vbsclient.api import retry
from vbsclient.api import transport
from vbsclient.api.verdict import classify
from vbsclient.api.verdict import Judgement
from vbsclient.api.verdict import Verdict

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Settings:
    """How one request is sent: retries after a fault or throttling, and
    the timeouts of each attempt (seconds); the client's settings
    (vbsclient.api.client.BackupClient holds their defaults).
    """

    retries: int
    connect_timeout: float
    read_timeout: float


@dataclasses.dataclass
class Final:
    """How a request ended: an answer worth keeping, or an error.

    may_have_acted: an attempt was cut off after it was sent (a reset, a
    read timeout, a gateway's 502/504), so the server may have carried
    the request out whatever the final answer says.
    retries_left: the retries it did not use: all that a check of what
    it did may spend (the two together cost what --retries says).
    """

    answer: object = None
    error: Exception = None
    may_have_acted: bool = False
    retries_left: int = 0


@dataclasses.dataclass
class _Attempt:
    answer: object = None
    error: Exception = None
    judgement: Judgement = None  # None: not sent
    generation: int = 0          # of the token it was sent with
    took: float = 0.0            # seconds from its sending to its end


class Pipeline:
    """The requests of one run: their stop, limiter, breaker and tokens.

    limiter: how many requests are in flight (vbsclient.api.limiter);
    by default no bound beyond the caller's threads.
    """

    def __init__(self, limiter=None, jitter=random.uniform,
                 clock=time.monotonic):
        # Set to stop sending (e.g. on a signal); requests in flight end.
        self.stopping = threading.Event()
        self.limiter = limiter or limiter_module.FixedLimit(
            limiter_module.DEFAULT_MAX)
        self.breaker = guards.Breaker()
        self.tokens = guards.TokenGuard(clock)
        self.pauses = retry.Pauses(self.stopping, jitter, clock)
        self._clock = clock

    def stop(self):
        """Send nothing more; wake every wait. Safe from a signal handler
        only through a thread (see vbsclient.osc.backup): it takes locks.
        """
        self.stopping.set()
        self.limiter.wake()
        self.tokens.wake()
        self.pauses.wake()

    @property
    def stopped(self):
        return self.stopping.is_set()

    def now(self):
        return self._clock()

    def send(self, place, method, path, settings, deadline, gate=None,
             **kwargs):
        """Send one request through `place` (a keystoneauth Adapter) until
        it gets an answer worth keeping; return its Final.

        deadline: a now() value by which the request gives up, time spent
        waiting for a slot or a pause included. gate(): None (send it), an
        error (not sent: that error, a NotSent) or an Event (wait for it
        without a slot, then queue again).
        """
        may_have_acted = False
        retried = renewed = 0
        last = None
        while True:
            attempt = self._attempt(place, method, path, settings, deadline,
                                    kwargs, gate)
            if attempt.judgement is None:
                # Not sent (stopped, given up, out of time): what this
                # request last met says more, if it was sent at all.
                return _ended(last or Final(error=attempt.error),
                              may_have_acted, settings.retries - retried)
            judgement = attempt.judgement
            # Cut off after it was sent, or a gateway's 502/504: it may
            # have been done, whatever this request ends with.
            may_have_acted = may_have_acted or judgement.may_have_acted
            last = Final(attempt.answer, attempt.error)
            if judgement.verdict is Verdict.AUTH \
                    and renewed < retry.MAX_UNAUTHORIZED \
                    and self._renewed(attempt, place, deadline):
                renewed += 1  # a new token: not a retry to count
                continue
            if judgement.retriable and retried < settings.retries \
                    and self._pause(self.pauses.delay(
                        retried, judgement.retry_after,
                        judgement.verdict.value,
                        0.0 if judgement.answered else attempt.took),
                        deadline, judgement.verdict):
                retried += 1
                continue
            return _ended(last, may_have_acted, settings.retries - retried)

    # -- one attempt ----------------------------------------------------------

    def _attempt(self, place, method, path, settings, deadline, kwargs,
                 gate=None):
        while True:
            why_not = self._why_not_send(deadline)
            if why_not is not None:
                return _Attempt(error=why_not)
            ticket = self.limiter.acquire(self.stopping, deadline)
            if ticket is None:
                return _Attempt(error=self._why_not_send(None) or _out_of_time(
                    ' waiting for its turn to be sent (throttling holds '
                    'every request as Retry-After says)'))
            attempt, later = _Attempt(), None
            try:
                # Again: the run may have stopped while this one queued.
                attempt.error = self._why_not_send(deadline)
                if attempt.error is None and gate is not None:
                    later = gate()
                    if isinstance(later, Exception):
                        attempt.error, later = later, None
                if attempt.error is None and later is None:
                    attempt = self._exchange(place, method, path, settings,
                                             deadline, kwargs)
            except Exception as exc:
                # A surprise (a library's, or ours) is this request's
                # failure, never a slot held for ever.
                attempt, later = _surprise(exc), None
            finally:
                self.limiter.release(ticket, attempt.judgement)
            if later is None:
                return attempt
            later.wait()  # what it waits for goes through the pipeline too

    def _why_not_send(self, deadline):
        """The error of a request that must not go out now, or None."""
        if self.stopping.is_set():
            return errors.Interrupted('not sent: the run was interrupted')
        refusal = self.breaker.refusal()
        if refusal is not None:
            return refusal
        if deadline is not None and self._clock() >= deadline:
            return _out_of_time()
        return None

    def _exchange(self, place, method, path, settings, deadline, kwargs):
        generation = self.tokens.sending()
        answer = error = None
        sent = self._clock()
        try:
            answer = transport.send(
                place, method, path, settings.connect_timeout,
                settings.read_timeout, budget=deadline - self._clock(),
                **kwargs)
        except errors.VbsError as exc:
            error = exc
        finally:
            judgement = classify(answer, error)
            self.tokens.answered(generation, judgement.answered and
                                 judgement.verdict not in (Verdict.AUTH,
                                                           Verdict.FAULT))
            self.breaker.record(method, judgement.answered, error)
        self.pauses.attempt_ended(judgement.answered,
                                  judgement.verdict is Verdict.FAULT)
        return _Attempt(answer, error, judgement, generation,
                        self._clock() - sent)

    # -- between attempts -----------------------------------------------------

    def _renewed(self, attempt, place, deadline):
        """Whether a 401 is worth sending again, with a renewed token."""
        if self.tokens.renew(attempt.generation, place.session,
                             self.stopping, deadline):
            return True
        if self.tokens.exhausted:
            answer = attempt.answer
            self.breaker.abort('the VBS endpoint rejects even a new token '
                               '(HTTP %d %s)' % (answer.status,
                                                 answer.reason or ''))
        return False

    def _pause(self, seconds, deadline, verdict):
        """retry.Pauses.wait: False if the run stops, or out of time."""
        return self.pauses.wait(seconds, deadline, verdict is Verdict.FAULT)


def _ended(final, may_have_acted, retries_left):
    final.may_have_acted = may_have_acted
    final.retries_left = max(0, retries_left)
    return final


def _surprise(exc):
    LOG.debug('unexpected error in a request', exc_info=True)
    return _Attempt(error=errors.VbsError('unexpected error: %s: %s' % (
        type(exc).__name__, errors.one_line(exc))),
        judgement=Judgement(Verdict.FINAL))


def _out_of_time(where=''):
    return errors.TransportError(
        'out of time: the backup\'s time budget (retries and waiting '
        'included) ran out' + where, may_have_reached_server=False,
        retriable=False)
