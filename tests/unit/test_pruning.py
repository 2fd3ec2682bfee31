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

"""A prune (vbsclient.api.pruning): its rows say what the plan said and
what each planned deletion did.
"""

from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import vbs_calls
from tests.unit.conftest import VOLUMES_URL
from tests.unit.deleting import chain_ids
from tests.unit.deleting import FakeClock
from vbsclient.api import pruning
from vbsclient.api import retention_rules
from vbsclient.api import run as runs

OLD, MIDDLE, NEW = chain_ids(3, 70)
VOLUME = chain_ids(1, 71)[0]
REFUSED = {'badRequest': {'code': 400, 'message': 'Invalid backup: '
                          'Incremental backups exist for this backup.'}}


def records(*extra):
    return [{'id': backup_id, 'name': 'n%d' % n, 'volume_id': VOLUME,
             'status': 'available', 'created_at': '2026-11-0%dT10:00:00' % n,
             **extra_fields}
            for n, (backup_id, extra_fields) in enumerate(
                zip((OLD, MIDDLE, NEW), extra or ({}, {}, {})), 1)]


def prune(client, dry_run=False):
    clock = FakeClock()
    run = runs.Run(client, parallel=2, sleep=clock.sleep, clock=clock)
    return pruning.Prune(run, retention_rules.Rules(last=1), dry_run=dry_run)


def by_id(rows):
    return {r.record['id']: (r.action, r.result, r.failed) for r in rows}


def test_a_dry_run_plans_and_sends_nothing(client, cloud):
    rows = prune(client, dry_run=True).run(records())
    assert by_id(rows) == {NEW: ('keep', 'kept', False),
                           MIDDLE: ('delete', 'would-delete', False),
                           OLD: ('delete', 'would-delete', False)}
    assert vbs_calls(cloud) == []


def test_each_planned_deletion_reports_what_its_request_did(client, cloud):
    cloud.delete(backup_url(MIDDLE), status_code=202,
                 headers={'x-openstack-request-id': 'req-m'})
    cloud.delete(backup_url(OLD), status_code=500,
                 json={'computeFault': {'code': 500, 'message': 'boom'}})
    rows = prune(client).run(records())
    assert by_id(rows) == {NEW: ('keep', 'kept', False),
                           MIDDLE: ('delete', 'deleted', False),
                           OLD: ('delete', 'failed', True)}
    assert [r.request_id for r in rows if r.record['id'] == MIDDLE] == [
        'req-m']
    assert sorted(c.method for c in vbs_calls(cloud)) == ['DELETE'] * 2


def test_a_refusal_for_dependents_only_the_server_knows_keeps_it(client,
                                                                 cloud):
    # The records show no dependents; the server refuses all the same,
    # and its volume's list shows none: kept, as needed, not a failure.
    cloud.delete(backup_url(MIDDLE), status_code=400, json=REFUSED)
    cloud.delete(backup_url(OLD), status_code=202)
    cloud.get(BACKUPS_URL + '/detail?volume_id=' + VOLUME, json={
        'backups': records()})
    rows = prune(client).run(records())
    middle = [r for r in rows if r.record['id'] == MIDDLE][0]
    assert (middle.action, middle.result, middle.failed) == (
        'keep', 'kept', False)
    assert middle.reason.startswith('needed by incremental backups that '
                                    'stay (the server refused: ')


def test_a_backup_gone_since_the_listing_is_gone(client, cloud):
    cloud.delete(backup_url(MIDDLE), status_code=404, json={'itemNotFound': {
        'code': 404, 'message': 'Backup %s could not be found.' % MIDDLE}})
    cloud.get(backup_url(MIDDLE), status_code=404, json={'itemNotFound': {
        'code': 404, 'message': 'Backup %s could not be found.' % MIDDLE}})
    cloud.delete(backup_url(OLD), status_code=202)
    rows = prune(client).run(records())
    assert by_id(rows)[MIDDLE] == ('delete', 'gone', False)


def test_select_lists_each_volume_named_once(client, cloud):
    cloud.get(VOLUMES_URL + '?name=db', complete_qs=True, json={
        'volumes': [{'id': VOLUME, 'name': 'db'}]})
    cloud.get(BACKUPS_URL + '/detail?volume_id=' + VOLUME, complete_qs=True,
              json={'backups': records()})
    selected = prune(client).select(['db', VOLUME.upper(), VOLUME])
    assert [r['id'] for r in selected] == [OLD, MIDDLE, NEW]
    lists = [c for c in vbs_calls(cloud) if 'backups' in c.path]
    assert len(lists) == 1
