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

"""A run's breaker and token guard."""

import pytest

from vbsclient.api import errors
from vbsclient.api import run as api_run


class Session:
    def __init__(self):
        self.invalidated = 0

    def invalidate(self):
        self.invalidated += 1


def timeout():
    return errors.TransportError('read timeout')


def test_the_endpoint_is_dead_after_failures_in_a_row_only():
    run = api_run.Run()
    for _ in range(api_run.DEAD_AFTER_FAILURES - 1):
        run.no_answer(timeout(), 'DELETE')
    run.answered('DELETE')  # an answer in between: alive
    for _ in range(api_run.DEAD_AFTER_FAILURES - 1):
        run.no_answer(timeout(), 'DELETE')
        run.answered('GET')  # GETs answer, DELETEs hang: still counted
    run.check()
    run.no_answer(timeout(), 'DELETE')
    with pytest.raises(errors.RunAborted) as info:
        run.check()
    assert 'not answering' in str(info.value)
    assert 'read timeout' in str(info.value)


def test_a_failure_no_retry_can_fix_aborts_at_once():
    run = api_run.Run()
    run.no_answer(errors.TransportError('TLS failure: untrusted',
                                        retriable=False), 'GET')
    with pytest.raises(errors.RunAborted, match='TLS failure'):
        run.check()


def test_a_new_run_starts_afresh():
    first = api_run.Run()
    first.abort('gone')
    first.stopping.set()
    second = api_run.Run()
    second.check()
    assert not second.stopping.is_set()


def test_tokens_are_renewed_once_per_token_and_never_storm():
    run, session = api_run.Run(), Session()
    guard = run.tokens
    # Eight parallel requests meet the first token's rejection together.
    assert all(guard.rejected(0, session, '401') for _ in range(8))
    assert session.invalidated == 1 and guard.generation == 1
    # One new token rejected before any success may be one API node's
    # lagging keys: one more is tried.
    assert guard.rejected(1, session, 'HTTP 401')
    assert session.invalidated == 2
    run.check()
    # A second one too: renewing cannot help.
    assert not guard.rejected(2, session, 'HTTP 401')
    assert session.invalidated == 2
    with pytest.raises(errors.RunAborted, match='rejects even a new token'):
        run.check()


def test_a_success_between_two_rejected_new_tokens_keeps_the_run_going():
    run, session = api_run.Run(), Session()
    guard = run.tokens
    guard.accepted(0)
    assert guard.rejected(0, session, '401')  # expired: renewed
    assert guard.rejected(1, session, '401')  # a fluke: renewed again
    guard.accepted(2)                         # the endpoint takes it
    assert guard.rejected(2, session, '401')  # expired, hours later
    assert guard.rejected(3, session, '401')  # a fluke again: not the
    assert session.invalidated == 4           # second in a row
    run.check()


def test_a_token_that_worked_is_renewed_when_it_expires():
    run, session = api_run.Run(), Session()
    guard = run.tokens
    for generation in range(3):
        guard.accepted(generation)
        assert guard.rejected(generation, session, '401')
    assert session.invalidated == 3
    run.check()
