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

"""How a backup ends (vbsclient.api.settle): the whole table.

Each row is what is known of one backup (what its DELETE got, what a GET
showed, the run's rules) and the end it must get. The rows cover every
combination of the DELETE's answer (accepted, each kind of error), the
GET (none, the record in each status that matters, the API's 404, a
foreign 404, no answer) and the rules (plain, --ignore-missing, listed).
"""

import itertools

import pytest

from vbsclient.api import errors
from vbsclient.api.outcome import Result
from vbsclient.api import settle

PLAIN = settle.Rules()
IGNORE = settle.Rules(ignore_missing=True)
LISTED = settle.Rules(listed=True)
ALL_RULES = (PLAIN, IGNORE, LISTED)


def api(status, message='boom', kind=errors.ApiError):
    return kind(status, message, request_id='req-%d' % status)


NOT_FOUND = api(404, 'Backup 1 could not be found.', errors.NotFound)
NO_SERVICE = api(404, 'Service cinder-backup could not be found.')
REFUSED = api(400, 'Invalid backup: Incremental backups exist for this '
                   'backup.')
BAD_STATUS = api(400, 'Invalid backup: Backup status must be available')
CONFLICT = api(409, 'Conflict')
SERVER = api(500, 'Internal error')
RESET = errors.TransportError('connection reset', may_have_reached_server=True)
STOPPED = errors.Interrupted('not sent: the run was interrupted')
GATEWAY = api(504, 'Gateway timeout')

NOT_LOOKED = None
GONE = settle.Saw(error=NOT_FOUND)
FOREIGN_404 = settle.Saw(error=api(404, 'Not Found'))
NO_ANSWER = settle.Saw(error=errors.TransportError('timed out'))


def record(status):
    return settle.Saw(record={'id': 'b1', 'status': status})


DELETING = record('deleting')
AVAILABLE = record('available')
ALL_SAWS = (NOT_LOOKED, GONE, FOREIGN_404, NO_ANSWER, DELETING, AVAILABLE)


def unconfirmed(cause):
    return errors.Unconfirmed(cause, retries_left=2)


# (DELETE's error, GET, rules) -> (result, blocked, a word of the reason).
# Only the combinations a run can meet: a GET only where look_needed().
TABLE = [
    # Accepted: deleted, whatever else.
    (None, NOT_LOOKED, PLAIN, Result.DELETED, False, None),
    # Refused while incremental backups exist: not final, to retry.
    (REFUSED, NOT_LOOKED, PLAIN, Result.FAILED, True, 'Incremental'),
    (REFUSED, NOT_LOOKED, LISTED, Result.FAILED, True, 'Incremental'),
    # 404: believed only if a GET confirms it, and only where it counts.
    (NOT_FOUND, NOT_LOOKED, PLAIN, Result.FAILED, False, 'could not be'),
    (NOT_FOUND, GONE, IGNORE, Result.ALREADY_MISSING, False, 'could not'),
    (NOT_FOUND, GONE, LISTED, Result.GONE, False, 'someone else'),
    (NO_SERVICE, AVAILABLE, IGNORE, Result.FAILED, False, 'cinder-backup'),
    (NO_SERVICE, AVAILABLE, LISTED, Result.FAILED, False, 'cinder-backup'),
    (NOT_FOUND, FOREIGN_404, IGNORE, Result.FAILED, False, 'Not Found'),
    (NOT_FOUND, NO_ANSWER, LISTED, Result.FAILED, False, 'could not be'),
    # 400/409: a backup being deleted already is no failure (reruns).
    (BAD_STATUS, DELETING, PLAIN, Result.DELETED, False, 'already being'),
    (CONFLICT, DELETING, IGNORE, Result.DELETED, False, 'already being'),
    (BAD_STATUS, AVAILABLE, PLAIN, Result.FAILED, False, 'must be'),
    (BAD_STATUS, NO_ANSWER, PLAIN, Result.FAILED, False, 'must be'),
    (BAD_STATUS, GONE, LISTED, Result.FAILED, False, 'must be'),
    # Other answers and failures: failed; a stop: not attempted.
    (SERVER, NOT_LOOKED, IGNORE, Result.FAILED, False, 'Internal'),
    (RESET, NOT_LOOKED, PLAIN, Result.FAILED, False, 'reset'),
    (STOPPED, NOT_LOOKED, LISTED, Result.NOT_ATTEMPTED, False,
     'interrupted'),
    # Cut off (may have acted): the GET decides.
    (unconfirmed(RESET), GONE, PLAIN, Result.GONE, False, 'cut off'),
    (unconfirmed(GATEWAY), GONE, LISTED, Result.GONE, False, 'Gateway'),
    (unconfirmed(RESET), DELETING, PLAIN, Result.DELETED, False, 'cut off'),
    (unconfirmed(REFUSED), AVAILABLE, PLAIN, Result.FAILED, True,
     'Incremental'),
    (unconfirmed(RESET), AVAILABLE, IGNORE, Result.FAILED, False, 'reset'),
    (unconfirmed(GATEWAY), NO_ANSWER, PLAIN, Result.FAILED, False,
     'Gateway'),
]


@pytest.mark.parametrize('error,saw,rules,result,blocked,word', TABLE)
def test_a_delete_ends_as_the_table_says(error, saw, rules, result,
                                         blocked, word):
    # The GET is made exactly where an end needs it.
    assert settle.look_needed(error, rules) is (saw is not NOT_LOOKED)
    end = settle.deleted('req-ok', error, saw, rules)
    assert (end.result, end.blocked) == (result, blocked)
    if word is not None:
        assert word in end.reason
    if result is Result.FAILED:
        assert end.error is not None  # what a hint is made from


@pytest.mark.parametrize('error,saw,rules', list(itertools.product(
    (None, REFUSED, NOT_FOUND, NO_SERVICE, BAD_STATUS, CONFLICT, SERVER,
     RESET, STOPPED, unconfirmed(RESET), unconfirmed(GATEWAY)),
    ALL_SAWS, ALL_RULES)))
def test_every_combination_has_one_definite_end(error, saw, rules):
    end = settle.deleted('req-ok', error, saw, rules)
    assert end.result in Result
    # Success only where the server accepted or the API said "not found"
    # (after a GET, for a DELETE's 404).
    if end.result in (Result.GONE, Result.ALREADY_MISSING):
        assert saw is not None and saw.not_found
    if end.result is Result.DELETED:
        assert error is None or (saw is not None and saw.status ==
                                 'deleting')
    if end.result is Result.FAILED:
        assert end.error is not None and end.reason
    # A cut-off attempt's failure keeps saying it may have acted.
    if isinstance(error, errors.Unconfirmed) and not end.blocked \
            and end.result is Result.FAILED:
        assert isinstance(end.error, errors.Unconfirmed)


def test_an_accepted_delete_keeps_its_request_id():
    end = settle.deleted('req-ok', None, None, PLAIN)
    assert (end.result, end.request_id) == (Result.DELETED, 'req-ok')
    failed = settle.deleted(None, SERVER, None, PLAIN)
    assert failed.request_id == 'req-500'


@pytest.mark.parametrize('error,rules,result', [
    (errors.BackupNotFound('No backup named x'), PLAIN, Result.FAILED),
    (errors.BackupNotFound('No backup named x'), IGNORE,
     Result.ALREADY_MISSING),
    (errors.AmbiguousName('2 backups'), IGNORE, Result.FAILED),
    (STOPPED, PLAIN, Result.NOT_ATTEMPTED),
    (SERVER, IGNORE, Result.FAILED),
])
def test_a_name_that_cannot_be_resolved(error, rules, result):
    assert settle.unresolved(error, rules).result is result


@pytest.mark.parametrize('saw,rules,result', [
    (AVAILABLE, PLAIN, Result.WOULD_DELETE),
    (DELETING, PLAIN, Result.WOULD_DELETE),
    (GONE, PLAIN, Result.FAILED),
    (GONE, IGNORE, Result.ALREADY_MISSING),
    (FOREIGN_404, IGNORE, Result.FAILED),
    (NO_ANSWER, IGNORE, Result.FAILED),
])
def test_a_dry_run_checks_that_each_backup_exists(saw, rules, result):
    assert settle.checked(saw, rules).result is result


@pytest.mark.parametrize('saw,result', [
    (GONE, Result.GONE),
    (record('error_deleting'), Result.FAILED),
    (DELETING, None),       # still going
    (AVAILABLE, None),
    (FOREIGN_404, None),    # not the API's own "not found": ask again
    (NO_ANSWER, None),      # a passing failure never ends a wait
])
def test_a_poll_ends_a_wait_only_on_gone_or_error_deleting(saw, result):
    end = settle.polled(saw)
    assert (end and end.result) == result


def test_a_backup_still_there_when_the_wait_ends():
    end = settle.not_gone(False, 'deleting', 30)
    assert end.result is Result.FAILED
    assert end.reason == 'still deleting after 30 seconds (timeout)'
    # After a stop, the accepted delete is what is known.
    assert settle.not_gone(True, 'deleting', 30).result is Result.DELETED


def test_a_parent_fails_with_its_refusal_and_what_keeps_it():
    end = settle.parent_failed(REFUSED, 'its incremental backups X stay',
                               remain=True)
    assert (end.result, end.dependents_remain) == (Result.FAILED, True)
    assert end.reason.startswith('Invalid backup: Incremental backups')
    assert end.reason.endswith('its incremental backups X stay')
    assert end.request_id == 'req-400'
    unsent = settle.parent_failed(None, 'the list failed')
    assert unsent.reason == 'The list failed'


def test_a_parent_the_stop_kept():
    assert settle.parent_interrupted(True, None).result \
        is Result.NOT_ATTEMPTED  # never sent
    refused_once = settle.parent_interrupted(False, REFUSED)
    assert refused_once.result is Result.FAILED
    assert 'interrupted before it was sent again' in refused_once.reason
