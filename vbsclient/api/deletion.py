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
(vbsclient.api.chainrun). How each backup ends is decided in
vbsclient.api.settle; this module asks what that needs to know.
"""

import collections
import dataclasses

from vbsclient.api import chainrun
from vbsclient.api import concurrency
from vbsclient.api import dedup
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api.outcome import FAILURES
from vbsclient.api.outcome import Outcome
from vbsclient.api.outcome import Result
from vbsclient.api import settle
from vbsclient.api import volume_records
from vbsclient.api import waiter


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
    """Delete a stream of backups named by ID or name, in a run
    (vbsclient.api.run.Run: its client, stop, threads, waits, progress).

    listed: None, or the records the arguments were listed with (ID ->
    record, of whole volumes: a prune's plan). Then each argument is an
    ID, deleted as written, without a lookup or a change of case; one
    gone before its DELETE (another run deleted it) is gone, not
    missing: nobody named it; one whose record reports dependents is
    held back until they are gone, so that the server need not refuse
    it (vbsclient.api.chainrun).
    """

    def __init__(self, run, force=False, ignore_missing=False,
                 dry_run=False, listed=None):
        self.run_context = run
        self.force = force
        self.dry_run = dry_run
        self.rules = settle.Rules(listed=listed is not None,
                                  ignore_missing=ignore_missing)
        self.counts = collections.Counter()  # Result -> outcomes reported
        self._claims = dedup.Claims()
        self._one_delete = OneDelete(force, self.rules)
        self._volumes = volume_records.VolumeRecords(run, known=listed)

    @property
    def interrupted(self):
        return self.run_context.stopped

    def listed(self, records):
        """The records the arguments were listed with (ID -> record):
        of whole volumes, as BulkDelete's `listed`.
        """
        self._volumes.known(records)

    def summary(self):
        """What the run did, for whoever reports it."""
        return Summary(dict(self.counts), self.interrupted)

    def run(self, arguments, wait=False, expected=None):
        """Yield one Outcome per distinct backup: in input order, or for a
        dry run in the order a run would delete them.

        expected: how many backups are named, if known: a wait for one
        backup does not survey the project's list first, nor does a
        listed run (its lists were read already).
        """
        self.run_context.client.allow_parallel(self.run_context.parallel)
        if wait and not (self.dry_run or self.rules.listed) and (
                expected is None or expected > 1):
            records, whole = waiter.survey(self.run_context)
            # The chains it shows: their parents are held back at once.
            (self._volumes.known if whole else self._volumes.saw)(records)
        # A listed run (a prune) reports at the end: its chain phase knows
        # every outcome, the dependents accepted first among them.
        hold = wait or self.dry_run or self.rules.listed
        held = []
        for outcome in self._each(dedup.unique_names(arguments)):
            if hold or held or outcome.blocked_by_dependents:
                held.append(outcome)  # later ones wait, to keep the order
            else:
                yield self._reported(outcome)
        if self.dry_run:
            held = self._chains().order(held, self._one_delete.records)
        else:
            self._chains().delete(held)
            if wait:
                wait_until_gone(self.run_context, [
                    o for o in held if o.result is Result.DELETED])
        for outcome in held:
            yield self._reported(outcome)

    def _reported(self, outcome):
        self.counts[outcome.result] += 1
        return outcome

    def _each(self, arguments):
        run = self.run_context
        for outcome in concurrency.ordered_map(
                self._one, arguments, run.parallel, stop=run.stopping,
                skipped=self._not_attempted):
            if outcome is not None:  # None: a backup already handled
                run.progress.done(outcome)
                yield outcome

    # -- one backup -----------------------------------------------------------

    def _one(self, argument):
        outcome = Outcome(argument=argument)
        try:
            return self._resolved_and_deleted(outcome)
        except Exception as exc:
            # A surprise is this backup's failure row, never a lost one.
            outcome.settle(settle.failed(errors.VbsError(
                'unexpected error: %s: %s'
                % (type(exc).__name__, errors.one_line(exc)))))
            return outcome

    def _resolved_and_deleted(self, outcome):
        client = self.run_context.for_backup()
        try:
            outcome.backup_id, outcome.name = self._resolve(
                client, outcome.argument)
        except errors.VbsError as exc:
            # The row names what was typed, so a runbook can match it.
            outcome.name_argument()
            outcome.settle(settle.unresolved(exc, self.rules))
            return outcome
        if not self._claims.claim(outcome.backup_id):
            return None
        if self.dry_run:
            self._one_delete.check(client, outcome)
        elif self._volumes.depended_on(outcome.backup_id):
            outcome.hold()
        else:
            self._one_delete.send(client, outcome,
                                  gate=self._volumes.gate(outcome.backup_id))
            if outcome.blocked_by_dependents and not outcome.held:
                # A chain: its parents not sent yet are held back.
                self._volumes.learn_soon(client, outcome.backup_id)
        return outcome

    def _resolve(self, client, argument):
        """(backup ID, name) of an argument: as listed, or looked up."""
        if self.rules.listed:
            return argument, None
        ids.check_name_or_id(argument)
        return client.find(argument)

    def _not_attempted(self, argument):
        """The outcome of an argument never sent (the run was stopped)."""
        outcome = Outcome(argument=argument)
        outcome.settle(settle.not_attempted())
        listed = self.rules.listed
        if listed or ids.is_uuid(argument):
            outcome.backup_id = argument if listed else argument.lower()
            if not self._claims.claim(outcome.backup_id):
                return None  # named before: that outcome stands for it
        return outcome

    def _chains(self):
        """The chain phase (vbsclient.api.chainrun)."""
        return chainrun.ChainRun(self.run_context, self._one_delete.send,
                                 self._volumes,
                                 ours=self._claims.__contains__,
                                 force=self.force, exact=self.rules.listed)


class OneDelete:
    """One backup's DELETE (or a dry run's check that it exists), and
    what settles it: the GET that tells what an unclear answer did.

    rules: settle.Rules; records: a dry run's checked records (ID ->
    record), for the order of its chains.
    """

    def __init__(self, force, rules):
        self._force, self._rules = force, rules
        self.records = {}

    def send(self, client, outcome, gate=None):
        """Send one backup's delete, and settle what it did (or hold it
        back, if the gate says so).
        """
        remove = client.force_delete if self._force else client.delete
        request_id = error = saw = None
        try:
            request_id = remove(outcome.backup_id, gate=gate)
        except errors.Held:
            return outcome.hold()
        except errors.VbsError as exc:
            error = exc
        if settle.look_needed(error, self._rules):
            if isinstance(error, errors.Unconfirmed):
                # The check shares the request's retries: a hung server
                # costs what --retries and --read-timeout say, not twice.
                client = client.configured(retries=error.retries_left)
            saw = waiter.look(client, outcome.backup_id)
        outcome.settle(settle.deleted(request_id, error, saw, self._rules))

    def check(self, client, outcome):
        """A dry run's check: whether the backup exists, settled."""
        saw = waiter.look(client, outcome.backup_id)
        outcome.settle(settle.checked(saw, self._rules))
        if saw.record is not None:
            outcome.name = outcome.name or saw.record.get('name')
            self.records[outcome.backup_id] = saw.record


def wait_until_gone(run, outcomes):
    """Wait until each accepted delete has completed: gone is success;
    error_deleting, or still there when the run's timeout runs out, is
    that backup's failure.
    """
    if not outcomes:
        return
    waited = waiter.until_gone(
        run, [o.backup_id for o in outcomes],
        on_round=lambda left: run.progress.waiting(len(left)))
    for outcome in outcomes:
        outcome.settle(waited.ends.get(outcome.backup_id) or settle.not_gone(
            run.stopped, waited.pending.get(outcome.backup_id)
            or outcome.status, run.timeout))
