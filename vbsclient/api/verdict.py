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

"""What an attempt's answer means, decided in one place for the retries,
the limiter, the breaker and the token guard alike.

A fault is not throttling. A 502, 503 or 504 without Retry-After, a reset
or a timeout is a passing fault: that request is tried again, and the
rate is left alone (TCP learned on lossy links that taking every loss
for congestion starves a connection; so did this client, which sank to
0.2 requests a second under 20 % of random 503s). Only a server that
says "slower" throttles: 429, 413, or a 503 that comes with a
Retry-After.
"""

import dataclasses
import enum

from vbsclient.api import errors
from vbsclient.api import retry

# A gateway's 502/504 may come after the service did the work.
UNCERTAIN_STATUSES = frozenset((502, 504))
FAULT_STATUSES = frozenset((502, 503, 504))
THROTTLE_STATUSES = frozenset((413, 429))


class Verdict(enum.Enum):
    SUCCESS = 'success'      # a 2xx: what was asked for
    FINAL = 'final'          # any other answer, or a failure no retry fixes
    THROTTLED = 'throttled'  # the server says "slower"
    FAULT = 'fault'          # passing: another attempt may work
    AUTH = 'auth'            # 401: the token


@dataclasses.dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    # An HTTP answer came: the server is up, and its time says how busy.
    answered: bool = False
    # The attempt may have been carried out whatever it ended with (it
    # was cut off after it was sent, or a gateway's 502/504 came back).
    may_have_acted: bool = False
    # Seconds the server asked us to wait (capped), or None.
    retry_after: float = None

    @property
    def retriable(self):
        return self.verdict in (Verdict.THROTTLED, Verdict.FAULT)


def classify(answer=None, error=None):
    """The Judgement of one attempt: its answer (a transport.Answer) or
    the error it raised instead (a VbsError).
    """
    if answer is None:
        if isinstance(error, errors.TransportError) and error.retriable:
            return Judgement(Verdict.FAULT,
                             may_have_acted=error.may_have_reached_server)
        return Judgement(Verdict.FINAL)
    status = answer.status
    wait = retry.retry_after_seconds(answer.headers.get('Retry-After'),
                                     cap=True)
    if status == 401:
        return Judgement(Verdict.AUTH, answered=True)
    if status in THROTTLE_STATUSES or (status == 503 and wait is not None):
        return Judgement(Verdict.THROTTLED, answered=True, retry_after=wait)
    if status in FAULT_STATUSES:
        return Judgement(Verdict.FAULT, answered=True,
                         may_have_acted=status in UNCERTAIN_STATUSES)
    if 200 <= status < 300:
        return Judgement(Verdict.SUCCESS, answered=True)
    return Judgement(Verdict.FINAL, answered=True)
