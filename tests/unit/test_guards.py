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

import threading
import time


from vbsclient.api import errors
from vbsclient.api import guards
from vbsclient.api import pipeline


class Session:
    def __init__(self):
        self.invalidated = 0

    def invalidate(self):
        self.invalidated += 1


def timeout():
    return errors.TransportError('read timeout')


FAR = time.monotonic() + 3600


def test_the_endpoint_is_dead_after_failures_in_a_row_only():
    breaker = guards.Breaker()
    for _ in range(guards.DEAD_AFTER_FAILURES - 1):
        breaker.record('DELETE', False, timeout())
    breaker.record('DELETE', True)  # an answer in between: alive
    for _ in range(guards.DEAD_AFTER_FAILURES - 1):
        breaker.record('DELETE', False, timeout())
        breaker.record('GET', True)  # GETs answer, DELETEs hang: counted
    assert breaker.refusal() is None
    breaker.record('DELETE', False, timeout())
    refusal = breaker.refusal()
    assert isinstance(refusal, errors.RunAborted)
    assert 'not answering' in str(refusal)
    assert 'read timeout' in str(refusal)


def test_a_failure_no_retry_can_fix_aborts_at_once():
    breaker = guards.Breaker()
    breaker.record('GET', False, errors.TransportError(
        'TLS failure: untrusted', retriable=False))
    assert 'TLS failure' in str(breaker.refusal())


def test_refused_credentials_abort_at_once():
    breaker = guards.Breaker()
    breaker.record('GET', False, errors.AuthenticationFailed(
        401, 'The request you have made requires authentication.'))
    assert 'Keystone refused' in str(breaker.refusal())


def test_a_new_run_starts_afresh():
    first = pipeline.Pipeline()
    first.breaker.abort('gone')
    first.stop()
    second = pipeline.Pipeline()
    assert second.breaker.refusal() is None
    assert not second.stopped


def rejected(guard, session):
    """One request, sent with the current token, got a 401: renew?"""
    generation = guard.sending()
    guard.answered(generation, False)
    return guard.renew(generation, session, threading.Event(), FAR)


def test_tokens_are_renewed_once_per_token_and_never_storm():
    guard, session = guards.TokenGuard(), Session()
    # Eight parallel requests meet the first token's rejection together.
    sent = [guard.sending() for _ in range(8)]
    for generation in sent:
        guard.answered(generation, False)
    assert all(guard.renew(0, session, threading.Event(), FAR)
               for _ in sent)
    assert session.invalidated == 1 and guard.generation == 1
    # One new token rejected by all its requests may be one API node's
    # lagging keys: one more is tried.
    assert rejected(guard, session)
    assert session.invalidated == 2 and not guard.exhausted
    # A second one too: renewing cannot help.
    assert not rejected(guard, session)
    assert session.invalidated == 2 and guard.exhausted


def test_a_success_between_two_rejected_new_tokens_keeps_the_run_going():
    guard, session = guards.TokenGuard(), Session()
    guard.answered(guard.sending(), True)
    assert rejected(guard, session)  # expired: renewed
    assert rejected(guard, session)  # a fluke: renewed again
    guard.answered(guard.sending(), True)  # the endpoint takes it
    assert rejected(guard, session)  # expired, hours later
    assert rejected(guard, session)  # a fluke again: not the
    assert session.invalidated == 4        # second in a row
    assert not guard.exhausted


def test_a_token_that_worked_is_renewed_when_it_expires():
    guard, session = guards.TokenGuard(), Session()
    for _ in range(3):
        guard.answered(guard.sending(), True)
        assert rejected(guard, session)
    assert session.invalidated == 3 and not guard.exhausted


def test_a_new_token_is_judged_once_all_its_requests_are_in():
    # 32 requests go out with a new token; the first answer read is a 401
    # (the token expired meanwhile), its earlier successes are read later.
    guard, session = guards.TokenGuard(), Session()
    guard.answered(guard.sending(), False)
    assert guard.renew(0, session, threading.Event(), FAR)
    sent = [guard.sending() for _ in range(32)]
    guard.answered(sent.pop(), False)

    def successes_read_later():
        time.sleep(0.2)
        for generation in sent:
            guard.answered(generation, True)
    threading.Thread(target=successes_read_later, daemon=True).start()
    assert guard.renew(1, session, threading.Event(), FAR)
    assert not guard.exhausted and guard.generation == 2
    # So a later new token that really is refused is only the first.
    assert rejected(guard, session) and not guard.exhausted


def test_waiting_for_a_tokens_verdict_ends_at_the_stop():
    guard, session, stop = guards.TokenGuard(), Session(), threading.Event()
    guard.answered(guard.sending(), False)
    assert guard.renew(0, session, stop, FAR)
    in_flight = guard.sending()  # never answers
    guard.answered(guard.sending(), False)
    threading.Timer(0.2, lambda: (stop.set(), guard.wake())).start()
    started = time.monotonic()
    assert not guard.renew(1, session, stop, FAR)
    assert time.monotonic() - started < 2 and in_flight == 1
