"""Deleting many backups: resolve, delete all, then (optionally) wait.

Every backup the user names ends with exactly one Outcome. The order of
work follows OpenStackClient's server delete: all deletes are sent first,
then the waiting starts, then the failures are reported together.
"""

import dataclasses
import time

from vbsclient.api import errors
from vbsclient.api import ids

# Outcome results.
DELETED = 'deleted'   # the server accepted the delete (202)
GONE = 'gone'         # and, with wait, the backup has disappeared (GET 404)
FAILED = 'failed'

DEFAULT_TIMEOUT = 600
_FIRST_POLL_DELAY = 1.0
_MAX_POLL_DELAY = 10.0


@dataclasses.dataclass
class Outcome:
    """What happened to one backup the user named."""

    argument: str
    backup_id: str = None
    name: str = None
    result: str = None
    reason: str = None
    request_id: str = None

    @property
    def failed(self):
        return self.result == FAILED

    def fail(self, reason, request_id=None):
        self.result = FAILED
        self.reason = str(reason)
        self.request_id = request_id or getattr(reason, 'request_id', None)


def check_arguments(arguments):
    """Refuse, before any request, arguments that name no backup at all."""
    for argument in arguments:
        if not argument.strip():
            raise errors.InvalidBackupId(
                'A backup name or ID must not be empty or blank.')
        if ids.has_control_characters(argument):
            raise errors.InvalidBackupId(
                'Backup name or ID %r contains control characters.'
                % argument)


def delete_backups(client, arguments, force=False, wait=False,
                   timeout=DEFAULT_TIMEOUT, sleep=time.sleep,
                   clock=time.monotonic):
    """Delete the named backups; return one Outcome per distinct backup."""
    check_arguments(arguments)
    outcomes = _resolve_all(client, arguments)
    for outcome in outcomes:
        if outcome.result is None:
            _delete_one(client, outcome, force)
    if wait:
        wait_until_gone(client, outcomes, timeout, sleep, clock)
    return outcomes


def resolve(client, argument):
    """Return (backup_id, name) for an ID or a name.

    A UUID is taken as an ID and costs no request. A name is looked up and
    must match exactly one backup: several matches are refused, never
    guessed.
    """
    if ids.is_uuid(argument):
        return argument.lower(), None
    matches = [b for b in client.list(name=argument)
               if b.get('name') == argument]
    if not matches:
        raise LookupError('No backup with name or ID %r exists.' % argument)
    if len(matches) > 1:
        raise LookupError(
            '%d backups are named %r (%s): name one by its ID.'
            % (len(matches), argument, ', '.join(b['id'] for b in matches)))
    return matches[0]['id'], argument


def _resolve_all(client, arguments):
    """One Outcome per distinct backup; the same backup named twice once."""
    outcomes, seen_ids = [], set()
    for argument in dict.fromkeys(arguments):
        outcome = Outcome(argument=argument)
        try:
            outcome.backup_id, outcome.name = resolve(client, argument)
        except (LookupError, errors.VbsError) as exc:
            outcome.fail(exc)
        if outcome.backup_id in seen_ids:
            continue
        if outcome.backup_id:
            seen_ids.add(outcome.backup_id)
        outcomes.append(outcome)
    return outcomes


def _delete_one(client, outcome, force):
    remove = client.force_delete if force else client.delete
    try:
        outcome.request_id = remove(outcome.backup_id)
    except errors.VbsError as exc:
        outcome.fail(exc)
    else:
        outcome.result = DELETED


def wait_until_gone(client, outcomes, timeout, sleep=time.sleep,
                    clock=time.monotonic):
    """Poll, with back-off, until each accepted delete has completed.

    Gone (GET answers 404) is success; "error_deleting", or still being
    there when the timeout runs out, is that backup's failure.
    """
    pending = [o for o in outcomes if o.result == DELETED]
    last_seen = {}
    deadline = clock() + timeout
    delay = _FIRST_POLL_DELAY
    while pending:
        pending = [o for o in pending if not _poll(client, o, last_seen)]
        remaining = deadline - clock()
        if not pending or remaining <= 0:
            break
        sleep(min(delay, remaining))
        delay = min(delay * 2, _MAX_POLL_DELAY)
    for outcome in pending:
        outcome.fail('still %s after %g seconds (timeout)'
                     % (last_seen.get(outcome.backup_id, 'present'), timeout))


def _poll(client, outcome, last_seen):
    """Check one backup; return True once its outcome is final."""
    try:
        status = client.get(outcome.backup_id).get('status')
    except errors.ApiError as exc:
        if exc.status_code == 404:
            outcome.result = GONE
            return True
        last_seen[outcome.backup_id] = 'unknown (%s)' % exc
        return False
    except errors.VbsError as exc:
        # A passing network failure must not end the wait early.
        last_seen[outcome.backup_id] = 'unknown (%s)' % exc
        return False
    if status == 'error_deleting':
        outcome.fail('the backup ended in status error_deleting')
        return True
    last_seen[outcome.backup_id] = status
    return False
