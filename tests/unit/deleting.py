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

"""What the deletion engine's unit tests share: a clock that moves only
when the code sleeps, a run of BulkDelete on it, and ChainCloud, Cinder's
chain rules in memory.
"""

import re

from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import NOT_FOUND
from tests.unit.conftest import vbs_calls
from vbsclient.api import deletion
from vbsclient.api import run as runs


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def bulk_delete(client, parallel=None, timeout=60, sleep=None, clock=None,
                **options):
    """A BulkDelete in a run of its own, on a FakeClock unless given."""
    clock = clock or FakeClock()
    run = runs.Run(client, parallel=parallel, timeout=timeout,
                   sleep=sleep or clock.sleep, clock=clock)
    return deletion.BulkDelete(run, **options)


def delete(client, arguments, wait=False, **options):
    """Delete as the CLI does: it tells how many backups are named."""
    expected = len(set(arguments)) if isinstance(arguments, list) else None
    return list(bulk_delete(client, **options).run(arguments, wait=wait,
                                                   expected=expected))


def results(outcomes):
    return [(o.argument, o.result) for o in outcomes]


def methods(cloud):
    return [c.method for c in vbs_calls(cloud)]


def uuid_of(n):
    return '%08d-0000-4000-8000-000000000000' % n


class ChainCloud:
    """Cinder's rules for one volume's chains, in memory: a backup with
    incremental backups depending on it is refused, and so is one in a
    status other than available or error; a delete takes effect at once
    (the next GET answers 404), or after `linger` GETs of the backup in
    status deleting.
    """

    def __init__(self, cloud, chains, statuses=(), linger=(), ends=(),
                 takes=None, clock=None):
        # chains: lists of IDs, each a full backup then its incrementals.
        # statuses: {ID: status} other than available; linger: {ID: how
        # many GETs see it deleting once its delete is accepted}; ends:
        # {ID: the status it then ends in} (default: it is gone); takes:
        # seconds (of `clock`) every accepted delete takes to complete.
        self.backups, self.deletes = {}, []
        self.linger, self.ends = dict(linger), dict(ends)
        self.takes, self.clock, self.gone_at = takes, clock, {}
        clock = 0
        for chain in chains:
            for position, backup_id in enumerate(chain):
                clock += 1
                self.backups[backup_id] = {
                    'id': backup_id, 'name': 'b%d' % clock,
                    'volume_id': 'vol-1',
                    'status': dict(statuses).get(backup_id, 'available'),
                    'is_incremental': position > 0,
                    'parent_id': chain[position - 1] if position else None,
                    'created_at': '2026-11-27T10:%02d:%02d' % divmod(clock,
                                                                     60)}
        one = re.compile(re.escape(BACKUPS_URL) + '/([0-9a-f-]{36})$')
        cloud.delete(one, json=self._delete)
        cloud.get(one, json=self._get)
        cloud.get(re.compile(re.escape(BACKUPS_URL) + r'/detail'),
                  json=self._list)

    def _children(self, backup_id):
        return [b for b in self.backups.values()
                if b['parent_id'] == backup_id]

    def _record(self, backup):
        shown = dict(backup, has_dependent_backups=bool(
            self._children(backup['id'])))
        shown.pop('parent_id')
        return shown

    def _complete(self):
        """Deletes that have taken their time are done."""
        for backup_id, when in list(self.gone_at.items()):
            if self.clock() >= when:
                del self.backups[backup_id], self.gone_at[backup_id]

    def _delete(self, request, context):
        self._complete()
        backup_id = request.path.rsplit('/', 1)[1]
        self.deletes.append(backup_id)
        context.status_code = 400
        if self.backups[backup_id]['status'] not in ('available', 'error'):
            return {'badRequest': {'code': 400, 'message': 'Invalid backup: '
                                   'Backup status must be available or '
                                   'error'}}
        if self._children(backup_id):
            return {'badRequest': {'code': 400, 'message': 'Invalid backup: '
                                   'Incremental backups exist for this '
                                   'backup.'}}
        if backup_id in self.linger or self.takes:
            self.backups[backup_id]['status'] = 'deleting'
            if self.takes:
                self.gone_at[backup_id] = self.clock() + self.takes
        else:
            del self.backups[backup_id]
        context.status_code = 202
        return None

    def _get(self, request, context):
        self._complete()
        backup_id = request.path.rsplit('/', 1)[1]
        backup = self.backups.get(backup_id)
        if backup is not None and backup['status'] == 'deleting' \
                and backup_id in self.linger:
            self.linger[backup_id] -= 1
            if self.linger[backup_id] < 0 and backup_id in self.ends:
                backup['status'] = self.ends[backup_id]
            elif self.linger[backup_id] < 0:
                del self.backups[backup_id]  # now it is gone
                backup = None
        if backup is None:
            context.status_code = 404
            return NOT_FOUND
        return {'backup': self._record(backup)}

    def _list(self, request, context):
        self._complete()
        return {'backups': [self._record(b) for b in self.backups.values()]}


def chain_ids(count, start):
    return ['%08d-0000-4000-8000-%012d' % (start, n) for n in range(count)]
