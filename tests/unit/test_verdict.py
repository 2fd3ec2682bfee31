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

"""What an attempt's answer means (verdict.classify): one table, status
or error and headers in, the Judgement out.
"""

import types

import pytest

from vbsclient.api import errors
from vbsclient.api import retry
from vbsclient.api.verdict import classify
from vbsclient.api.verdict import Judgement
from vbsclient.api.verdict import Verdict

S, F, T, X, A = (Verdict.SUCCESS, Verdict.FINAL, Verdict.THROTTLED,
                 Verdict.FAULT, Verdict.AUTH)


def answer(status, **headers):
    return types.SimpleNamespace(status=status, headers=headers)


# status, Retry-After, verdict, may have acted, retry_after
ANSWERS = [
    (200, None, S, False, None),
    (202, None, S, False, None),
    (204, None, S, False, None),
    (202, '5', S, False, None),      # a success waits for nothing
    (300, None, F, False, None),
    (400, None, F, False, None),
    (403, None, F, False, None),
    (404, None, F, False, None),
    (409, None, F, False, None),
    (500, None, F, False, None),     # a server error: no retry fixes it
    (500, '5', F, False, None),
    (501, None, F, False, None),
    (401, None, A, False, None),
    (401, '5', A, False, None),
    (429, None, T, False, None),     # throttled, with a back-off
    (429, '3', T, False, 3.0),
    (413, '2', T, False, 2.0),
    (429, '9999', T, False, retry.MAX_RETRY_AFTER),  # capped
    (429, 'soon', T, False, None),   # ignored, not an error
    (503, '4', T, False, 4.0),       # "slower": throttling
    (503, None, X, False, None),     # a passing fault
    (503, 'soon', X, False, None),   # no usable Retry-After: a fault
    (502, None, X, True, None),      # a gateway's: may have been done
    (504, None, X, True, None),
    (502, '4', X, True, None),       # Retry-After makes only a 503 "slower"
]


@pytest.mark.parametrize('status, retry_after, verdict, acted, wait',
                         ANSWERS)
def test_an_answer(status, retry_after, verdict, acted, wait):
    headers = {'Retry-After': retry_after} if retry_after else {}
    judged = classify(answer(status, **headers))
    assert judged == Judgement(verdict, answered=True, may_have_acted=acted,
                               retry_after=wait)
    assert judged.retriable is (verdict in (T, X))


# error, verdict, may have acted
ERRORS = [
    (errors.TransportError('refused', may_have_reached_server=False,
                           retriable=True), X, False),
    (errors.TransportError('read timeout', may_have_reached_server=True,
                           retriable=True), X, True),
    (errors.TransportError('certificate', may_have_reached_server=False,
                           retriable=False), F, False),
    (errors.VbsError('unexpected'), F, False),
    (None, F, False),
]


@pytest.mark.parametrize('error, verdict, acted', ERRORS)
def test_no_answer(error, verdict, acted):
    judged = classify(error=error)
    assert judged == Judgement(verdict, answered=False, may_have_acted=acted)
    assert judged.retry_after is None
