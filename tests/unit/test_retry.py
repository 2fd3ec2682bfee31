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

"""retry.py: back-off with jitter, Retry-After, and the pauses between
a run's attempts (retry.Pauses). The retry loop itself is the pipeline's:
tests/unit/test_pipeline.py.
"""

import email.utils
import threading
import time

import pytest

from vbsclient.api import retry


def test_backoff_grows_is_bounded_and_jittered():
    def jitter(low, high):
        return (low, high)
    assert [retry.backoff(n, jitter) for n in range(3)] == [
        (0.25, 0.5), (0.5, 1.0), (1.0, 2.0)]
    assert retry.backoff(20, jitter) == (15.0, 30.0)
    assert retry.backoff(5000, jitter) == (15.0, 30.0)


@pytest.mark.parametrize('value, seconds', [
    ('3', 3.0), (' 7 ', 7.0), ('', None), (None, None), ('soon', None),
    # Only ASCII digits or an HTTP date; anything else is ignored.
    ('\u00b2', None), ('\u0663', None), ('1.5', None), ('-3', None),
    ('3s', None), ('Mon, 99 Foo 2020 25:00:00 GMT', None)])
def test_retry_after_seconds(value, seconds):
    assert retry.retry_after_seconds(value) == seconds


def test_retry_after_is_capped():
    assert retry.retry_after_seconds('9' * 40, cap=True) == \
        retry.MAX_RETRY_AFTER
    far = 'Fri, 31 Dec 9999 23:59:59 GMT'
    assert retry.retry_after_seconds(far, cap=True) == retry.MAX_RETRY_AFTER


def test_retry_after_as_an_http_date():
    when = email.utils.formatdate(1000.0 + 12, usegmt=True)
    assert retry.retry_after_seconds(when, now=lambda: 1000.0) == 12.0
    assert retry.retry_after_seconds(when, now=lambda: 2000.0) == 0.0


# -- the pauses between attempts (retry.Pauses) -------------------------------

def highest(low, high):
    return high


def pauses(outcomes=()):
    """A run's Pauses after attempts that were faults (True) or answers."""
    made = retry.Pauses(threading.Event(), jitter=highest)
    for fault in outcomes:
        made.attempt_ended(answered=True, fault=fault)
    return made


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def far():
    return time.monotonic() + 60


@pytest.mark.parametrize('outcomes, works', [
    ((), False),                        # nothing known yet
    ((False,) * 20, True),
    ((False,) * 16 + (True,) * 4, True),   # a fifth faults: passing ones
    ((False,) * 15 + (True,) * 5, False),  # a quarter: not working
    ((True,) * 20, False),              # an outage
    ((True,) * 20 + (False,) * 20, True),  # the latest 20 count
])
def test_the_server_works_while_few_of_the_latest_attempts_fault(outcomes,
                                                                 works):
    assert pauses(outcomes).server_works is works


def test_a_fault_while_the_server_works_is_retried_at_once():
    result, took = timed(lambda: pauses((False,) * 20).wait(2.0, far(),
                                                            fault=True))
    assert result is True and took < 0.5  # RESUME_AFTER, not 2 s


def test_a_fault_while_the_server_does_not_work_waits_its_back_off():
    result, took = timed(lambda: pauses((True,) * 20).wait(0.3, far(),
                                                           fault=True))
    assert result is True and took >= 0.3


def test_a_back_off_ends_soon_after_another_request_gets_an_answer():
    run = pauses((True,) * 20)
    threading.Timer(0.2, run.attempt_ended, (True, False)).start()
    result, took = timed(lambda: run.wait(10.0, far(), fault=True))
    # The answer at 0.2 s, then at most FIRST_DELAY / 2 more.
    assert result is True and took < 0.2 + retry.FIRST_DELAY / 2 + 0.3


def test_throttlings_pause_runs_its_course_whatever_else_is_answered():
    run = pauses((False,) * 20)
    threading.Timer(0.05, run.attempt_ended, (True, False)).start()
    result, took = timed(lambda: run.wait(0.3, far(), fault=False))
    assert result is True and took >= 0.3


def test_a_pause_ends_at_the_stop_and_never_runs_past_the_deadline():
    stop = threading.Event()
    run = retry.Pauses(stop, jitter=highest)
    threading.Timer(0.1, lambda: (stop.set(), run.wake())).start()
    result, took = timed(lambda: run.wait(10.0, far(), fault=False))
    assert result is False and took < 2
    # A pause that would end past the deadline is not begun.
    result, took = timed(lambda: pauses().wait(
        5.0, time.monotonic() + 1, fault=True))
    assert result is False and took < 0.1


def test_the_delay_is_what_the_server_said_or_a_back_off_less_the_wait():
    run = pauses()
    assert run.delay(0, retry_after=7.0) == 7.0
    assert run.delay(2) == 2.0  # highest of the third back-off, 1 to 2 s
    # An attempt that waited 1.5 s for an answer it never got has spaced
    # the attempts already: 0.5 s more, and nothing for a short back-off.
    assert run.delay(2, waited=1.5) == 0.5
    assert run.delay(0, waited=1.0) == 0.0
