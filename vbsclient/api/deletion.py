"""Deleting many backups: resolve, delete all, then (optionally) wait.

Every backup the user names ends with exactly one Outcome. The order of
work follows OpenStackClient's server delete: all deletes are sent first,
then the waiting starts, then the failures are reported together. Work
runs `parallel` at a time on the client's one session (one token, reused
connections), and the input is streamed: memory does not grow with it,
except under --wait, which must remember what it waits for.
"""

import dataclasses
import threading
import time
import uuid

from vbsclient.api import concurrency
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import run as api_run

# Outcome results.
DELETED = 'deleted'                  # the server accepted the delete (202)
GONE = 'gone'                        # deleted, and seen to be gone (--wait)
ALREADY_MISSING = 'already-missing'  # really gone before (--ignore-missing)
WOULD_DELETE = 'would-delete'        # exists, and --dry-run sent nothing
FAILED = 'failed'
NOT_ATTEMPTED = 'not-attempted'      # never sent (the run was interrupted)

DEFAULT_PARALLEL = 8
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
    # The failure behind a failed result, for whoever reports it.
    error: Exception = dataclasses.field(default=None, repr=False)

    @property
    def failed(self):
        return self.result in (FAILED, NOT_ATTEMPTED)

    def fail(self, reason, request_id=None):
        self.result = FAILED
        self.reason = str(reason)
        self.request_id = request_id or getattr(reason, 'request_id', None)
        if isinstance(reason, Exception):
            self.error = reason


class BulkDelete:
    """Delete a stream of backups named by ID or name."""

    def __init__(self, client, force=False, ignore_missing=False,
                 dry_run=False, parallel=DEFAULT_PARALLEL, progress=None):
        # Requests of this run share its stop event and circuit breaker,
        # not the caller's client: a later run starts afresh.
        self.run_state = api_run.Run()
        self.client = client.bound(run=self.run_state)
        self.force = force
        self.ignore_missing = ignore_missing
        self.dry_run = dry_run
        self.parallel = parallel
        self.progress = progress or _NoProgress()
        self._claimed = set()
        self._lock = threading.Lock()

    def stop(self):
        """Stop sending (e.g. on Ctrl-C); safe from a signal handler.

        Requests in flight finish (or time out); backups not yet started
        end as not-attempted; a wait stops, leaving accepted deletes as
        "deleted" (accepted, not seen gone).
        """
        self.run_state.stopping.set()

    @property
    def interrupted(self):
        return self.run_state.stopping.is_set()

    def run(self, arguments, wait=False, timeout=DEFAULT_TIMEOUT,
            sleep=None, clock=time.monotonic):
        """Yield one Outcome per distinct backup, in input order."""
        self.client.allow_parallel(self.parallel)
        outcomes = self._each(_unique_names(arguments))
        if not wait or self.dry_run:
            yield from outcomes
            return
        outcomes = list(outcomes)
        self.wait_until_gone(outcomes, timeout, sleep, clock)
        yield from outcomes

    def _each(self, arguments):
        for outcome in concurrency.ordered_map(
                self._one, arguments, self.parallel,
                stop=self.run_state.stopping,
                skipped=self._not_attempted):
            if outcome is not None:  # None: a backup already handled
                self.progress.done(outcome)
                yield outcome

    # -- one backup -----------------------------------------------------------

    def _one(self, argument):
        outcome = Outcome(argument=argument)
        # Each backup has its own time budget: lookup, delete, retries and
        # the GETs that tell what a cut-off attempt did.
        client = self.client.bound(
            deadline=api_run.now() + self.client.budget)
        try:
            ids.check_name_or_id(argument)
            outcome.backup_id, outcome.name = client.find(argument)
        except errors.BackupNotFound as exc:
            self._missing(outcome, exc)
            return outcome
        except errors.VbsError as exc:
            outcome.fail(exc)
            return outcome
        if not self._claim(outcome.backup_id):
            return None
        if self.dry_run:
            self._check_exists(client, outcome)
        else:
            self._delete(client, outcome)
        return outcome

    def _claim(self, backup_id):
        """True the first time a backup comes up: it is deleted once.

        The set is the one thing that grows with the input: a UUID is kept
        as a 128-bit integer, about a third of its text's size.
        """
        key = uuid.UUID(backup_id).int if ids.is_uuid(backup_id) \
            else backup_id
        with self._lock:
            if key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def _not_attempted(self, argument):
        """The outcome of an argument never sent (the run was stopped)."""
        outcome = Outcome(argument=argument, result=NOT_ATTEMPTED,
                          reason='not attempted: the run was interrupted')
        if ids.is_uuid(argument):
            outcome.backup_id = argument.lower()
            if not self._claim(outcome.backup_id):
                return None  # named before: that outcome stands for it
        return outcome

    def _delete(self, client, outcome):
        remove = client.force_delete if self.force else client.delete
        try:
            outcome.request_id = remove(outcome.backup_id)
            outcome.result = DELETED
        except errors.Unconfirmed as exc:
            self._reconcile(client, outcome, exc.cause)
        except errors.ApiError as exc:
            if exc.status_code == 404 and self.ignore_missing:
                self._confirm_missing(client, outcome, exc)
            else:
                outcome.fail(exc)
        except errors.VbsError as exc:
            outcome.fail(exc)

    def _confirm_missing(self, client, outcome, exc):
        """Believe a DELETE's 404 only once a GET confirms it.

        Cinder also answers a DELETE with 404 when no cinder-backup service
        is up, while the backup is still there: that is a failure, not
        "already missing". So is a 404 from an endpoint that does not
        serve the backup API, and the GET's error says why.
        """
        _, error = _look_up(client, outcome.backup_id)
        if _not_found(error):
            self._missing(outcome, exc)
        elif getattr(error, 'status_code', None) == 404:
            outcome.fail(error)
        else:
            outcome.fail(exc)

    def _reconcile(self, client, outcome, exc):
        """Report what the server has done when an attempt was cut off.

        An attempt that timed out or was reset after it was sent may have
        been carried out: its retry then meets a backup that is deleting
        (400) or gone (404). Neither is this backup's failure.
        """
        record, get_error = _look_up(client, outcome.backup_id)
        if _not_found(get_error):
            outcome.result = GONE
            outcome.reason = ('gone: an attempt was cut off (%s) and may '
                              'have deleted it' % _short(exc))
        elif record and record.get('status') == 'deleting':
            outcome.result = DELETED
            outcome.reason = ('accepted by an attempt that was cut off; '
                              'now deleting')
        else:
            outcome.fail(exc)

    def _missing(self, outcome, exc):
        if self.ignore_missing:
            outcome.result = ALREADY_MISSING
            outcome.reason = str(exc)
            outcome.request_id = getattr(exc, 'request_id', None)
        else:
            outcome.fail(exc)

    def _check_exists(self, client, outcome):
        if outcome.name is not None:  # found by name: the list showed it
            outcome.result = WOULD_DELETE
            return
        record, error = _look_up(client, outcome.backup_id)
        if record is not None:
            outcome.name = record.get('name')
            outcome.result = WOULD_DELETE
        elif _not_found(error):
            self._missing(outcome, error)
        else:
            outcome.fail(error)

    # -- waiting --------------------------------------------------------------

    def wait_until_gone(self, outcomes, timeout, sleep=None,
                        clock=time.monotonic):
        """Poll, with back-off, until each accepted delete has completed.

        Gone (GET answers 404) is success; "error_deleting", or still being
        there when the timeout runs out, is that backup's failure.
        """
        # By default the pauses end at once when the run is stopped.
        sleep = sleep or self.run_state.stopping.wait
        pending = [o for o in outcomes if o.result == DELETED]
        last_seen = {}
        deadline = clock() + timeout
        delay = _FIRST_POLL_DELAY
        while pending:
            self.progress.waiting(len(pending))
            finished = concurrency.ordered_map(
                lambda o: _poll(self.client, o, last_seen), pending,
                self.parallel, stop=self.run_state.stopping,
                skipped=lambda o: False)
            pending = [o for o, done in zip(pending, list(finished))
                       if not done]
            remaining = deadline - clock()
            if not pending or remaining <= 0 or self.interrupted:
                break
            sleep(min(delay, remaining))
            delay = min(delay * 2, _MAX_POLL_DELAY)
        if self.interrupted:
            for outcome in pending:  # accepted; that much is known
                outcome.reason = 'interrupted before it was seen gone'
            return
        for outcome in pending:
            outcome.fail('still %s after %g seconds (timeout)'
                         % (last_seen.get(outcome.backup_id, 'present'),
                            timeout))


def _poll(client, outcome, last_seen):
    """Check one backup; return True once its outcome is final."""
    record, error = _look_up(client, outcome.backup_id)
    if _not_found(error):
        outcome.result = GONE
        return True
    if error is not None:
        # A passing failure must not end the wait early.
        last_seen[outcome.backup_id] = 'unknown (%s)' % error
        return False
    if record.get('status') == 'error_deleting':
        outcome.fail('the backup ended in status error_deleting')
        return True
    last_seen[outcome.backup_id] = record.get('status')
    return False


def _look_up(client, backup_id):
    """GET the backup: (record, None), or (None, the error)."""
    try:
        return client.get(backup_id), None
    except errors.VbsError as exc:
        return None, exc


def _not_found(error):
    """Whether the API itself said the backup does not exist."""
    return isinstance(error, errors.NotFound)


def _short(exc):
    return str(exc).split(' (HTTP')[0][:120]


def _unique_names(arguments):
    """The arguments with repeated names dropped (streamed).

    IDs pass through: they are de-duplicated when claimed, compactly, and
    remembering them here too would double the memory of a long input.
    """
    seen = set()
    for argument in arguments:
        if ids.is_uuid(argument):
            yield argument
        elif argument not in seen:
            seen.add(argument)
            yield argument


class _NoProgress:
    def done(self, outcome):
        pass

    def waiting(self, pending):
        pass
