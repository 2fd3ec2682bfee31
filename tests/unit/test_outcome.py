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

"""One backup's Outcome (vbsclient.api.outcome): what counts as a failure,
how the argument is shown, and what recording an End keeps and replaces.
Which End a backup gets is vbsclient.api.settle's (test_settle.py).
"""

import pytest

from tests.unit.conftest import A
from vbsclient.api.outcome import FAILURES
from vbsclient.api.outcome import Outcome
from vbsclient.api.outcome import Result
from vbsclient.api.settle import End


def test_results_are_their_words():
    # Rows, JSON output and scripts compare them with plain strings.
    assert [r.value for r in Result] == [
        'deleted', 'gone', 'already-missing', 'would-delete', 'failed',
        'not-attempted']
    assert Result.GONE == 'gone' and Result('gone') is Result.GONE


@pytest.mark.parametrize('result, failed', [
    (Result.DELETED, False), (Result.GONE, False),
    (Result.ALREADY_MISSING, False), (Result.WOULD_DELETE, False),
    (Result.FAILED, True), (Result.NOT_ATTEMPTED, True),
    (None, False),  # not decided yet
])
def test_only_failed_and_not_attempted_count_as_failures(result, failed):
    assert Outcome(argument=A, result=result).failed is failed
    assert (result in FAILURES) is failed


def test_outcomes_are_one_per_backup_compared_by_identity():
    first, second = Outcome(argument=A), Outcome(argument=A)
    assert first != second
    assert first == first
    assert len({first, second}) == 2  # hashable: kept in sets and maps


@pytest.mark.parametrize('argument, backup_id, name', [
    (A.upper(), A, None),  # an ID, shown as the API writes it
    ('nightly', None, 'nightly'),
    (A + 'x', None, A + 'x'),
])
def test_an_unresolved_argument_is_shown_as_an_id_or_as_a_name(
        argument, backup_id, name):
    outcome = Outcome(argument=argument)
    outcome.name_argument()
    assert (outcome.backup_id, outcome.name) == (backup_id, name)


def test_what_a_lookup_found_is_not_replaced_by_the_argument():
    found = Outcome(argument='nightly', backup_id=A)
    found.name_argument()
    assert (found.backup_id, found.name) == (A, None)
    named = Outcome(argument=A.upper(), name='nightly')
    named.name_argument()
    assert (named.backup_id, named.name) == (None, 'nightly')


def test_settling_records_the_end_as_decided():
    error = RuntimeError('Invalid backup (HTTP 400)')
    outcome = Outcome(argument=A)
    outcome.settle(End(Result.FAILED, str(error), error, 'req-1', 'error',
                       blocked=True, dependents_remain=True))
    assert (outcome.result, outcome.reason, outcome.error,
            outcome.request_id, outcome.status) == (
        Result.FAILED, 'Invalid backup (HTTP 400)', error, 'req-1', 'error')
    assert outcome.blocked_by_dependents and outcome.dependents_remain
    assert outcome.failed


def test_a_later_end_replaces_the_result_but_not_what_it_does_not_know():
    # An Outcome does not judge: the latest End is what it shows (settle
    # decides, e.g. that a delete accepted stays 'deleted' at a timeout).
    # A request ID or a status the new End has not is kept from before;
    # the error and the flags are the new End's.
    outcome = Outcome(argument=A)
    outcome.settle(End(Result.FAILED, 'refused', RuntimeError('refused'),
                       'req-1', 'available', blocked=True))
    outcome.settle(End(Result.GONE, 'deleted by its dependents\' run'))
    assert (outcome.result, outcome.reason, outcome.error) == (
        Result.GONE, 'deleted by its dependents\' run', None)
    assert (outcome.request_id, outcome.status) == ('req-1', 'available')
    assert not outcome.blocked_by_dependents and not outcome.failed


def test_a_held_backup_is_not_attempted_until_settled():
    outcome = Outcome(argument=A, request_id='req-lookup')
    outcome.hold()
    assert (outcome.result, outcome.reason) == (
        Result.NOT_ATTEMPTED, 'not sent: incremental backups depend on it')
    assert outcome.held and outcome.blocked_by_dependents
    assert outcome.failed  # if the run ends with it still held
    assert outcome.request_id == 'req-lookup'
    outcome.settle(End(Result.DELETED, request_id='req-2'))
    assert not outcome.held and not outcome.blocked_by_dependents
    assert (outcome.result, outcome.request_id) == (Result.DELETED, 'req-2')


def test_the_repr_shows_the_result_not_the_error():
    outcome = Outcome(argument=A)
    outcome.settle(End(Result.FAILED, 'boom', RuntimeError('x' * 1000)))
    assert "result=<Result.FAILED: 'failed'>" in repr(outcome)
    assert 'x' * 20 not in repr(outcome)
