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

"""A prune: the backups of a selection, planned by retention rules
(vbsclient.api.retention), and the planned deletions carried out by the
deletion engine of `vbs backup delete` (vbsclient.api.deletion): the same
requests, chains, concurrency, retries, --wait and stop.

The plan comes from one paged list: of the project's backups, or of each
volume named, each backup once and only of the volumes named
(vbsclient.api.listing). Each planned deletion goes to the ID its record
was listed with, exactly: no lookup, no change of case. Its row says
what that request did: a backup already gone (another run deleted it) is
gone, not failed. A deletion the server refuses because incremental
backups depend on it that the plan keeps (or that only the server knows
of) is a backup kept because needed; one whose dependents were to go but
did not is a failure.
"""

import dataclasses

from vbsclient.api import deletion
from vbsclient.api import listing
from vbsclient.api.outcome import Outcome
from vbsclient.api.outcome import Result
from vbsclient.api import retention
from vbsclient.api import settle
from vbsclient.api import waiter

KEPT = 'kept'
SKIPPED = 'skipped'


@dataclasses.dataclass
class Row:
    """One backup of the selection: what the plan said, what happened."""

    record: dict
    action: str   # retention.KEEP, DELETE or SKIP
    reason: str
    result: str   # a deletion's Result value, or KEPT / SKIPPED
    request_id: str = None
    failed: bool = False
    # For a skipped backup, why in a word (retention.SKIPPED).
    skipped: str = None
    # The deletion's outcome, for whoever says what to do about a failure.
    outcome: object = dataclasses.field(default=None, repr=False)


# Never expected (the deletion gives every ID an outcome); if it happens,
# a failure, never a success.
_UNACCOUNTED = Outcome(argument=None)
_UNACCOUNTED.settle(settle.not_attempted(
    'not attempted: the deletion gave no outcome'))


class Prune:
    """A prune in a run (vbsclient.api.run.Run) by retention_rules.Rules."""

    def __init__(self, run, rules, dry_run=False):
        self.run_context = run
        self.rules = rules
        self.dry_run = dry_run
        self.bulk = deletion.BulkDelete(run, listed={})

    def select(self, volumes=None):
        """The detailed records to plan: of these volumes (names or IDs),
        or of the whole project (one paged list); through the run's
        pipeline, so that a stop ends the listing too (Interrupted).
        """
        client = self.run_context.client
        if not volumes:
            return self._listed(waiter.PROJECT)
        volume_ids = [client.find_volume(v) for v in volumes]
        records = []
        for volume_id in dict.fromkeys(volume_ids):
            records.extend(self._listed(volume_id))
        return records

    def _listed(self, scope):
        """The records of the project's list, or a volume's; what they
        showed is kept for the waits (waiter.Sightings).
        """
        report = listing.Report()
        filters = {} if scope is waiter.PROJECT else {'volume_id': scope}
        records = list(self.run_context.client.list(
            detailed=True, report=report, **filters))
        sightings = self.run_context.sightings
        sightings.listed(scope, records)
        if report.filters_applied:
            sightings.pages[scope] = max(1, report.pages)
        return records

    def run(self, records, wait=False):
        """Plan, delete what is not kept; return one Row per record,
        newest first per volume.
        """
        decisions = retention.plan(records, self.rules)
        # The deletion knows every record listed: it holds back those that
        # others depend on, and plans chains without listing again.
        self.bulk.listed({r['id']: r for r in records})
        doomed = [d.record['id'] for d in decisions
                  if d.action == retention.DELETE]
        outcomes = {}
        if doomed and not self.dry_run:
            outcomes = {o.backup_id: o for o in self.bulk.run(
                doomed, wait=wait)}
        return [self._row(d, outcomes.get(d.record['id'], _UNACCOUNTED))
                for d in decisions]

    def _row(self, decision, outcome):
        reason = decision.reason
        if decision.action == retention.KEEP:
            return Row(decision.record, decision.action, reason, KEPT)
        if decision.action == retention.SKIP:
            return Row(decision.record, decision.action, reason, SKIPPED,
                       skipped=decision.skipped)
        if self.dry_run:
            return Row(decision.record, decision.action,
                       reason or 'no rule keeps it',
                       Result.WOULD_DELETE.value)
        if outcome.failed and outcome.dependents_remain:
            # Dependents that stay, which the records may not show.
            return Row(decision.record, retention.KEEP,
                       'needed by incremental backups that stay (the '
                       'server refused: %s)' % outcome.reason, KEPT,
                       outcome.request_id)
        return Row(decision.record, decision.action,
                   outcome.reason or reason or 'no rule keeps it',
                   outcome.result.value, outcome.request_id, outcome.failed,
                   outcome)
