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

"""How a backup's part in a run ends, decided in one place.

Pure: each function takes what is known of one backup (the DELETE's
error or request ID, what a GET of it showed, the run's rules) and
returns its End, which Outcome.settle() records. Nothing here sends a
request: where an end needs a GET first, look_needed() says so, and the
caller asks and comes back with what it Saw.

Delete, the chain phase, prune and --wait all end a backup through
these functions; tests/unit/test_settle.py holds their table.
"""

import dataclasses

from vbsclient.api import chains
from vbsclient.api import errors
from vbsclient.api.outcome import Result

INTERRUPTED = 'not attempted: the run was interrupted'


@dataclasses.dataclass(frozen=True)
class Rules:
    """The run's flags that change an end.

    listed: the backups were named from a list this run made (a prune):
    one gone before its DELETE is gone, not missing (nobody named it).
    ignore_missing: a backup that does not exist is done
    (already-missing).
    """

    listed: bool = False
    ignore_missing: bool = False


@dataclasses.dataclass(frozen=True)
class Saw:
    """What a GET of the backup showed: its record, or the error."""

    record: dict = None
    error: Exception = None
    # Absent from a list that can say so (vbsclient.api.waiter).
    absent: bool = False

    @property
    def not_found(self):
        """The API itself said that the backup does not exist: its GET's
        404, or its absence from a complete list it was seen in before.
        """
        return self.absent or isinstance(self.error, errors.NotFound)

    @property
    def status(self):
        return (self.record or {}).get('status')


@dataclasses.dataclass(frozen=True)
class End:
    """A backup's end (or, `blocked`, a refusal to try again later)."""

    result: Result
    reason: str = None
    error: Exception = None  # the failure behind a failed result
    request_id: str = None
    status: str = None       # its status as last seen, if seen
    # Refused because incremental backups depend on it: not final.
    blocked: bool = False
    # Failed for good because backups that stay depend on it (a prune
    # counts it kept).
    dependents_remain: bool = False


def failed(error, request_id=None, status=None, **flags):
    return End(Result.FAILED, str(error), error,
               request_id or getattr(error, 'request_id', None), status,
               **flags)


def not_attempted(reason=INTERRUPTED):
    return End(Result.NOT_ATTEMPTED, reason)


# -- a DELETE -----------------------------------------------------------------

def look_needed(error, rules):
    """Whether a DELETE that ended in `error` needs a GET to end.

    A cut-off attempt may have acted; a 404 is believed only once a GET
    confirms it; a 400 or 409 may be a backup being deleted already.
    """
    if isinstance(error, errors.Unconfirmed):
        return True
    if not isinstance(error, errors.ApiError) \
            or chains.refused_for_dependents(error):
        return False
    if error.status_code == 404:
        return rules.listed or rules.ignore_missing
    return error.status_code in (400, 409)


def deleted(request_id, error, saw, rules):
    """The end of a DELETE: accepted (error None) or `error`; `saw` is
    the GET that look_needed() asked for, else None.
    """
    status = saw.status if saw else None
    if error is None:
        return End(Result.DELETED, None, None, request_id, status)
    if isinstance(error, errors.Unconfirmed):
        return _cut_off(error, saw)
    if isinstance(error, errors.Interrupted):
        return not_attempted()
    if not isinstance(error, errors.ApiError):
        return failed(error, status=status)
    if chains.refused_for_dependents(error):
        return failed(error, status=status, blocked=True)
    if saw is not None and error.status_code == 404:
        return _confirmed_missing(error, saw, rules)
    if saw is not None and status == 'deleting':
        # Deleted already (an earlier run that timed out, someone else):
        # no failure, so that a rerun converges; --wait waits for it.
        return End(Result.DELETED, 'already being deleted (status deleting) '
                   'when this run asked', None, error.request_id, status)
    return failed(error, status=status)


def _cut_off(unconfirmed, saw):
    """An attempt that may have acted (a timeout or reset after it was
    sent, a gateway's 502 or 504): the GET decides.
    """
    cause = unconfirmed.cause
    saw = saw or Saw()  # not looked: nothing known beyond the DELETE
    if saw.not_found:
        got = errors.one_line(getattr(cause, 'message', None) or cause)
        return End(Result.GONE, 'gone: an attempt that may have deleted it '
                   'was cut off (a timeout, a reset) or answered by a '
                   'gateway (502, 504); the last attempt got: %s' % got)
    if saw.status == 'deleting':
        return End(Result.DELETED, 'accepted by an attempt that was cut '
                   'off; now deleting', status=saw.status)
    if chains.refused_for_dependents(cause):
        return failed(cause, status=saw.status, blocked=True)
    # The failure keeps saying that the delete may have happened.
    return failed(unconfirmed, status=saw.status)


def _confirmed_missing(error, saw, rules):
    """A DELETE's 404, believed only if the GET confirms it: Cinder also
    answers 404 while no cinder-backup service is up, and so does an
    endpoint that does not serve the backup API (the GET says which).
    """
    if saw.not_found:
        return missing(error, rules)
    if getattr(saw.error, 'status_code', None) == 404:
        return failed(saw.error)
    return failed(error, status=saw.status)


def missing(error, rules):
    """A backup that does not exist (error: the API's "not found")."""
    if rules.listed:
        return End(Result.GONE, 'gone before this run\'s DELETE (deleted '
                   'by someone else since it was listed)')
    if rules.ignore_missing:
        # A success: what the server said, without a failure's hint.
        return End(Result.ALREADY_MISSING,
                   getattr(error, 'summary', str(error)), None,
                   getattr(error, 'request_id', None))
    return failed(error)


def unresolved(error, rules):
    """The end of a backup whose name or ID could not be resolved."""
    if isinstance(error, errors.BackupNotFound):
        return missing(error, rules)
    if isinstance(error, errors.Interrupted):
        return not_attempted()
    return failed(error)


# -- a dry run ----------------------------------------------------------------

def checked(saw, rules):
    """A dry run's end, from a GET of the backup."""
    if saw.record is not None:
        return End(Result.WOULD_DELETE, status=saw.status)
    if saw.not_found:
        return missing(saw.error, rules)
    return failed(saw.error)


# -- waiting until gone -------------------------------------------------------

def polled(saw):
    """The end a poll of an accepted delete shows, or None (still there,
    or the poll failed: a passing failure must not end the wait).
    """
    if saw.not_found:
        return End(Result.GONE)
    if saw.status == 'error_deleting':
        return failed(errors.FailedOnServer(
            'the backup ended in status error_deleting'), status=saw.status)
    return None


def not_gone(stopped, last_seen, timeout):
    """The end of an accepted delete still there when the wait ended:
    after a stop, accepted (that much is known); else a failure.
    """
    if stopped:
        return End(Result.DELETED, 'interrupted before it was seen gone')
    return failed(errors.NotGoneInTime(last_seen or 'present', timeout))


# -- a chain's parent ---------------------------------------------------------

def parent_failed(error, hint, cause=None, remain=False):
    """A parent that cannot go: the refusal it got (`error`, if any),
    with the hint that says what keeps it.

    remain: what keeps it are dependents this run does not delete, not
    dependents of the run that did not go.
    """
    if isinstance(error, errors.ApiError):
        error = error.with_hint(hint, errors.ApiError)
    else:
        error = errors.VbsError(hint[0].upper() + hint[1:])
    return failed(error, getattr(cause, 'request_id', None),
                  dependents_remain=remain)


def parent_interrupted(held, error):
    """A parent the stop kept from being sent (again): never sent (held)
    is not attempted; refused once, it fails with that refusal.
    """
    if held:
        return not_attempted()
    return parent_failed(error, 'the run was interrupted before it was '
                                'sent again')
