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
volume named. A deletion the server refuses all the same because
incremental backups depend on it is a backup kept because needed, not a
failure.
"""

import dataclasses

from vbsclient.api import chains
from vbsclient.api import deletion
from vbsclient.api.outcome import Result
from vbsclient.api import retention

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
    # The deletion's outcome, for whoever says what to do about a failure.
    outcome: object = dataclasses.field(default=None, repr=False)


class Prune:
    def __init__(self, client, rules, dry_run=False, parallel=None,
                 progress=None):
        self.client = client
        self.rules = rules
        self.dry_run = dry_run
        self.bulk = deletion.BulkDelete(client, parallel=parallel,
                                        progress=progress)

    def select(self, volume_ids=None):
        """The detailed records to plan: of these volumes, or of the
        whole project (one paged list).
        """
        if not volume_ids:
            return list(self.client.list(detailed=True))
        records = []
        for volume_id in dict.fromkeys(volume_ids):
            records.extend(self.client.list(detailed=True,
                                            volume_id=volume_id))
        return records

    def run(self, records, wait=False, timeout=deletion.DEFAULT_TIMEOUT):
        """Plan, delete what is not kept; return one Row per record,
        newest first per volume.
        """
        decisions = retention.plan(records, self.rules)
        doomed = [d.record['id'] for d in decisions
                  if d.action == retention.DELETE]
        outcomes = {}
        if doomed and not self.dry_run:
            outcomes = {o.backup_id: o for o in self.bulk.run(
                doomed, wait=wait, timeout=timeout)}
        return [self._row(d, outcomes.get(d.record['id']))
                for d in decisions]

    def _row(self, decision, outcome):
        reason = decision.reason
        if decision.action == retention.KEEP:
            return Row(decision.record, decision.action, reason, KEPT)
        if decision.action == retention.SKIP:
            return Row(decision.record, decision.action, reason, SKIPPED)
        if outcome is None:  # a dry run
            return Row(decision.record, decision.action,
                       reason or 'no rule keeps it',
                       Result.WOULD_DELETE.value)
        if outcome.failed and chains.refused_for_dependents(outcome.error):
            # The server knows a chain we could not see: kept, needed.
            return Row(decision.record, retention.KEEP,
                       'needed by incremental backups that stay (the '
                       'server refused: %s)' % outcome.reason, KEPT,
                       outcome.request_id)
        return Row(decision.record, decision.action,
                   outcome.reason or reason or 'no rule keeps it',
                   outcome.result.value, outcome.request_id, outcome.failed,
                   outcome)
