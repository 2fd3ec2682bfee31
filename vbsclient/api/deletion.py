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

"""Deleting many backups: resolve, delete all, finish the chains, then
(optionally) wait.

Every backup the user names ends with exactly one Outcome
(vbsclient.api.outcome). The order of work follows OpenStackClient's
server delete: all deletes are sent first, then the waiting starts, then
the failures are reported together. Work runs `parallel` at a time on the
client's one session (one token, reused connections), and the input is
streamed: memory does not grow with it, except where outcomes must be
held back (under --wait, for a dry run, and after the first backup that
must wait for its incremental backups).

Backups that depend on each other (an incremental chain) may be named in
any order: a delete the server refuses because incremental backups exist
is sent again once those named in the same run are gone
(vbsclient.api.chainrun).
"""

import collections
import dataclasses
import time

from vbsclient.api import chainrun
from vbsclient.api import chains
from vbsclient.api import concurrency
from vbsclient.api import dedup
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import limiter
from vbsclient.api.outcome import FAILURES
from vbsclient.api.outcome import Outcome
from vbsclient.api.outcome import Result
from vbsclient.api import pipeline as api_pipeline
from vbsclient.api import waiter

DEFAULT_TIMEOUT = 600


@dataclasses.dataclass(frozen=True)
class Summary:
    """The outcomes of a run, counted: {Result: how many}."""

    counts: dict
    interrupted: bool

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def failures(self):
        """Backups that did not go: failed, or never sent."""
        return sum(self[result] for result in FAILURES)

    def __getitem__(self, result):
        return self.counts.get(result, 0)

    def line(self):
        """'N deleted, N failed, ...': every result that occurred, and
        those a runbook always looks for.
        """
        return ', '.join('%d %s' % (self[result], result.value)
                         for result in Result if self[result] or result in
                         (Result.DELETED, Result.FAILED,
                          Result.NOT_ATTEMPTED))


class BulkDelete:
    """Delete a stream of backups named by ID or name."""

    def __init__(self, client, force=False, ignore_missing=False,
                 dry_run=False, parallel=None, progress=None, listed=None):
        """parallel: requests in flight, fixed; None adapts it (up to
        limiter.DEFAULT_MAX) to what the server's answers show.

        listed: None, or the records the arguments were listed with (ID
        -> record, of whole volumes: a prune's plan). Then each argument
        is an ID, deleted as written, without a lookup or a change of
        case; one gone before its DELETE (another run deleted it) is
        gone, not missing: nobody named it; one whose record reports
        dependents is held back until they are gone, so that the server
        need not refuse it (vbsclient.api.chainrun).
        """
        # Every request of this run goes through one pipeline (stop,
        # breaker, tokens, limiter): the command's, to which the client
        # is bound, or one of its own (a later run starts afresh).
        self.pipeline = client.pipeline or api_pipeline.Pipeline(
            limiter.FixedLimit(parallel) if parallel
            else limiter.AdaptiveLimit())
        self.client = client.bound(pipeline=self.pipeline)
        self.force = force
        self.ignore_missing = ignore_missing
        self.dry_run = dry_run
        self.listed = listed
        # Threads: as many as requests may be in flight.
        self.parallel = parallel or limiter.DEFAULT_MAX
        self.progress = progress or _NoProgress()
        self.counts = collections.Counter()  # Result -> outcomes reported
        self._claims = dedup.Claims()
        self._records = {}  # dry run: backup ID -> its record
        self._wait_deadline = None

    def stop(self):
        """Stop sending (e.g. on Ctrl-C or SIGTERM).

        Nothing is sent after it. Requests in flight finish (or time out);
        backups not yet sent end as not-attempted; every wait ends, leaving
        accepted deletes as "deleted" (accepted, not seen gone).
        """
        self.pipeline.stop()

    @property
    def interrupted(self):
        return self.pipeline.stopped

    def summary(self):
        """What the run did, for whoever reports it."""
        return Summary(dict(self.counts), self.interrupted)

    def run(self, arguments, wait=False, timeout=DEFAULT_TIMEOUT,
            sleep=None, clock=time.monotonic):
        """Yield one Outcome per distinct backup: in input order, or for a
        dry run in the order a run would delete them.

        timeout: seconds for all waiting together, for --wait and for
        incremental backups that a parent waits for.
        """
        self.client.allow_parallel(self.parallel)
        self._timeout, self._sleep, self._clock = timeout, sleep, clock
        # A listed run (a prune) reports at the end: its chain phase knows
        # every outcome, the dependents accepted first among them.
        hold = wait or self.dry_run or self.listed is not None
        held = []
        for outcome in self._each(dedup.unique_names(arguments)):
            if hold or held or outcome.blocked_by_dependents:
                held.append(outcome)  # later ones wait, to keep the order
            else:
                yield self._reported(outcome)
        if self.dry_run:
            held = self._plan(held)
        else:
            self._delete_chains(held)
            if wait:
                self._wait_until_gone(
                    [o for o in held if o.result is Result.DELETED])
        for outcome in held:
            yield self._reported(outcome)

    def _reported(self, outcome):
        self.counts[outcome.result] += 1
        return outcome

    def _each(self, arguments):
        for outcome in concurrency.ordered_map(
                self._one, arguments, self.parallel,
                stop=self.pipeline.stopping,
                skipped=self._not_attempted):
            if outcome is not None:  # None: a backup already handled
                self.progress.done(outcome)
                yield outcome

    # -- one backup -----------------------------------------------------------

    def _one(self, argument):
        outcome = Outcome(argument=argument)
        try:
            return self._resolved_and_deleted(outcome)
        except Exception as exc:
            # A surprise is this backup's failure row, never a lost one.
            outcome.fail(errors.VbsError('unexpected error: %s: %s' % (
                type(exc).__name__, errors.one_line(exc))))
            return outcome

    def _resolved_and_deleted(self, outcome):
        argument = outcome.argument
        client = self._backup_client()
        try:
            outcome.backup_id, outcome.name = self._resolve(client, argument)
        except errors.VbsError as exc:
            # The row names what was typed, so a runbook can match it.
            outcome.name_argument()
            if isinstance(exc, errors.BackupNotFound):
                self._missing(outcome, exc)
            else:
                self._failed(outcome, exc)
            return outcome
        if not self._claims.claim(outcome.backup_id):
            return None
        if self.dry_run:
            self._check_exists(client, outcome)
        elif chains.reports_dependents(
                (self.listed or {}).get(outcome.backup_id, {})):
            outcome.hold()
        else:
            self._delete(client, outcome)
        return outcome

    def _resolve(self, client, argument):
        """(backup ID, name) of an argument: as listed, or looked up."""
        if self.listed is not None:
            return argument, None
        ids.check_name_or_id(argument)
        return client.find(argument)

    def _backup_client(self):
        """Each backup has its own time budget: lookup, delete, retries and
        the GETs that tell what a cut-off attempt did.
        """
        return self.client.bound(
            deadline=self.pipeline.now() + self.client.budget)

    def _not_attempted(self, argument):
        """The outcome of an argument never sent (the run was stopped)."""
        outcome = Outcome(argument=argument)
        outcome.not_attempted('not attempted: the run was interrupted')
        listed = self.listed is not None
        if listed or ids.is_uuid(argument):
            outcome.backup_id = argument if listed else argument.lower()
            if not self._claims.claim(outcome.backup_id):
                return None  # named before: that outcome stands for it
        return outcome

    def _delete(self, client, outcome):
        remove = client.force_delete if self.force else client.delete
        try:
            outcome.accepted(remove(outcome.backup_id))
        except errors.Unconfirmed as exc:
            self._reconcile(client, outcome, exc)
        except errors.ApiError as exc:
            if chains.refused_for_dependents(exc):
                outcome.blocked(exc)
            elif exc.status_code == 404 and (self.ignore_missing
                                             or self.listed is not None):
                self._confirm_missing(client, outcome, exc)
            elif exc.status_code in (400, 409):
                self._maybe_deleting(client, outcome, exc)
            else:
                outcome.fail(exc)
        except errors.VbsError as exc:
            self._failed(outcome, exc)

    def _failed(self, outcome, exc):
        """A failure; or not attempted, for a request the stop kept."""
        if isinstance(exc, errors.Interrupted):
            outcome.not_attempted('not attempted: the run was interrupted')
        else:
            outcome.fail(exc)

    def _maybe_deleting(self, client, outcome, exc):
        """A refused delete of a backup that is being deleted already
        (by an earlier run that timed out, or by someone else) is no
        failure: a rerun must converge. It is reported as accepted, and
        --wait waits for it like for the others.
        """
        record, _ = _look_up(client, outcome.backup_id)
        outcome.saw(record)
        if outcome.status == 'deleting':
            outcome.accepted(exc.request_id, 'already being deleted '
                                             '(status deleting) when this '
                                             'run asked')
        else:
            outcome.fail(exc)

    def _confirm_missing(self, client, outcome, exc):
        """Believe a DELETE's 404 only once a GET confirms it.

        Cinder also answers a DELETE with 404 when no cinder-backup service
        is up, while the backup is still there: that is a failure, not
        "already missing". So is a 404 from an endpoint that does not
        serve the backup API, and the GET's error says why.
        """
        record, error = _look_up(client, outcome.backup_id)
        outcome.saw(record)
        if _not_found(error):
            self._missing(outcome, exc)
        elif getattr(error, 'status_code', None) == 404:
            outcome.fail(error)
        else:
            outcome.fail(exc)

    def _reconcile(self, client, outcome, unconfirmed):
        """Report what the server has done when an attempt may have acted.

        An attempt that timed out or was reset after it was sent, or that
        a gateway answered with 502 or 504, may have been carried out: its
        retry then meets a backup that is deleting (400) or gone (404), or
        there is no retry. A GET decides; neither is this backup's
        failure. A failure keeps saying that the delete may have happened
        (errors.Unconfirmed).
        """
        exc = unconfirmed.cause
        # The check shares the request's retries: a hung server costs
        # what --retries and --read-timeout say, not twice that.
        record, get_error = _look_up(
            client.configured(retries=unconfirmed.retries_left),
            outcome.backup_id)
        outcome.saw(record)
        if _not_found(get_error):
            got = errors.one_line(getattr(exc, 'message', None) or exc)
            outcome.gone('gone: an attempt that may have deleted it was '
                         'cut off (a timeout, a reset) or answered by a '
                         'gateway (502, 504); the last attempt got: %s'
                         % got)
        elif outcome.status == 'deleting':
            outcome.accepted(None, 'accepted by an attempt that was cut '
                                   'off; now deleting')
        elif chains.refused_for_dependents(exc):
            outcome.blocked(exc)
        else:
            outcome.fail(unconfirmed)

    def _missing(self, outcome, exc):
        if self.listed is not None:
            outcome.gone('gone before this run\'s DELETE (deleted by '
                         'someone else since it was listed)')
        elif self.ignore_missing:
            outcome.missing(exc)
        else:
            outcome.fail(exc)

    def _check_exists(self, client, outcome):
        record, error = _look_up(client, outcome.backup_id)
        outcome.saw(record)
        if record is not None:
            outcome.name = outcome.name or record.get('name')
            outcome.would_delete()
            self._records[outcome.backup_id] = record
        elif _not_found(error):
            self._missing(outcome, error)
        else:
            outcome.fail(error)

    # -- incremental chains ---------------------------------------------------

    def _delete_chains(self, outcomes):
        """Delete the backups refused because incremental backups depend
        on them, once those are gone (vbsclient.api.chainrun).
        """
        self._chains().delete(outcomes)

    def _plan(self, outcomes):
        """A dry run's outcomes in the order a run would delete them."""
        return self._chains().order(outcomes, self._records)

    def _chains(self):
        return chainrun.ChainRun(
            self._backup_client, self._delete, self.pipeline.stopping,
            self._start_waiting, self._timeout, self.parallel,
            ours=self._claims.__contains__, force=self.force,
            progress=self.progress, sleep=self._sleep, clock=self._clock,
            known=self.listed)

    def _start_waiting(self):
        """The deadline that all waiting shares, from the first wait on."""
        if self._wait_deadline is None:
            self._wait_deadline = self._clock() + self._timeout
        return self._wait_deadline

    # -- waiting --------------------------------------------------------------

    def _wait_until_gone(self, outcomes):
        """Poll, with back-off, until each accepted delete has completed.

        Gone (the API's own 404) is success; "error_deleting", or still
        being there when the run's timeout runs out, is that backup's
        failure.
        """
        if not outcomes:
            return
        deadline = self._start_waiting()  # all waiting shares the timeout
        unknown = {}  # backup ID -> why its last poll failed
        pending = waiter.wait_for(
            outcomes, lambda o: _poll(self.client, o, unknown),
            max(0.0, deadline - self._clock()), self.parallel,
            self.pipeline.stopping, sleep=self._sleep, clock=self._clock,
            on_round=lambda left: self.progress.waiting(len(left)))
        for outcome in pending:
            if self.interrupted:  # accepted; that much is known
                outcome.accepted(None, 'interrupted before it was seen gone')
            else:
                outcome.fail(errors.NotGoneInTime(
                    unknown.get(outcome.backup_id) or outcome.status
                    or 'present', self._timeout))


def _poll(client, outcome, unknown):
    """Check one backup; return True once its outcome is final."""
    record, error = _look_up(client, outcome.backup_id)
    if _not_found(error):
        outcome.gone()
        return True
    if error is not None:
        # A passing failure must not end the wait early.
        unknown[outcome.backup_id] = 'unknown (%s)' % error
        return False
    unknown.pop(outcome.backup_id, None)
    outcome.saw(record)
    if outcome.status == 'error_deleting':
        outcome.fail(errors.FailedOnServer(
            'the backup ended in status error_deleting'))
        return True
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


class _NoProgress:
    def done(self, outcome):
        pass

    def waiting(self, pending):
        pass
