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

"""Retrying a request: back-off with jitter, Retry-After, a time budget,
and knowing whether an earlier attempt may already have done the work.

keystoneauth has a retry loop (connect_retries, status_code_retries); it
is not used, for three reasons that matter to a bulk delete: its back-off
has no jitter (hundreds of parallel requests retry in lockstep against a
struggling API), it sleeps for whatever Retry-After says (unbounded), and
it hides whether a failed attempt may have reached the server, which
decides what a later 404 means for a DELETE. That last fact is a value
the policy returns (Final.may_have_acted), not something raised.
"""

import dataclasses
import email.utils
import random
import threading
import time

from vbsclient.api import errors

RETRY_STATUSES = frozenset((502, 503, 504))
THROTTLE_STATUSES = frozenset((413, 429))
# A gateway's 502/504 may come after the service did the work.
UNCERTAIN_STATUSES = frozenset((502, 504))

DEFAULT_RETRIES = 4
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
MAX_RETRY_AFTER = 60.0
# A 401 is sent again (with a renewed token) at most this often.
MAX_UNAUTHORIZED = 3


@dataclasses.dataclass
class Final:
    """How a request ended: an answer worth keeping, or an error.

    may_have_acted: an attempt was cut off after it was sent (a reset, a
    read timeout, a gateway's 502/504), so the server may have carried the
    request out whatever the final answer says.
    """

    answer: object = None
    error: Exception = None
    may_have_acted: bool = False


class RetryPolicy:
    """How often and how long to retry one request.

    deadline: a time.monotonic() value after which no pause or attempt
    starts (None: none).
    """

    def __init__(self, retries=DEFAULT_RETRIES, stopping=None,
                 jitter=random.uniform, deadline=None, clock=time.monotonic):
        self.retries = retries
        # Set when the run is interrupted: no new attempt starts.
        self.stopping = stopping or threading.Event()
        self.jitter = jitter
        self.deadline = deadline
        self.clock = clock

    def call(self, attempt):
        """Run attempt() until it gives an answer worth keeping.

        attempt() returns an answer (with .status, .headers and
        .token_renewed) or raises a VbsError; only a retriable
        TransportError is tried again.
        """
        may_have_acted = False
        number = unauthorized = 0
        last = Final()  # what the latest attempt got
        while True:
            try:
                answer = attempt()
            except errors.RunAborted as exc:
                # The run gave up on the endpoint: what this request last
                # met says more than "not sent", if it was sent at all.
                if last.answer is None and last.error is None:
                    last.error = exc
                last.may_have_acted = may_have_acted
                return last
            except errors.TransportError as exc:
                may_have_acted = may_have_acted or exc.may_have_reached_server
                if (not exc.retriable or number >= self.retries
                        or not self._pause(self._backoff(number))):
                    return Final(error=exc, may_have_acted=may_have_acted)
                last = Final(error=exc)
                number += 1
                continue
            except errors.VbsError as exc:
                return Final(error=exc, may_have_acted=may_have_acted)
            last = Final(answer=answer)
            status = answer.status
            if status == 401 and answer.token_renewed \
                    and unauthorized < MAX_UNAUTHORIZED:
                # The token was renewed, or another request renewed it
                # (see vbsclient.api.run.TokenGuard): not a retry to count.
                unauthorized += 1
                continue
            if (number >= self.retries
                    or status not in RETRY_STATUSES | THROTTLE_STATUSES
                    or not self._pause(self._delay(answer, number))):
                return Final(answer=answer, may_have_acted=may_have_acted)
            may_have_acted = may_have_acted or status in UNCERTAIN_STATUSES
            number += 1

    def _pause(self, seconds):
        """Sleep before the next attempt; False if the run is stopping or
        the pause would end past the deadline.
        """
        if self.deadline is not None and \
                self.clock() + seconds >= self.deadline:
            return False
        return not self.stopping.wait(seconds)

    def _backoff(self, number):
        ceiling = min(MAX_DELAY, FIRST_DELAY * 2 ** number)
        return self.jitter(ceiling / 2, ceiling)

    def _delay(self, answer, number):
        if answer.status in THROTTLE_STATUSES:
            wait = retry_after_seconds(answer.headers.get('Retry-After'),
                                       cap=True)
            if wait is not None:
                return wait
        return self._backoff(number)


def retry_after_seconds(value, now=time.time, cap=False):
    """Retry-After as seconds: a number of seconds or an HTTP date
    (with cap, at most MAX_RETRY_AFTER).
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = max(0.0, when.timestamp() - now())
    return min(seconds, MAX_RETRY_AFTER) if cap else seconds
