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

"""`openstack vbs backup prune` over real HTTP: the installed `openstack`
executable against FakeCloud, outcomes checked at the server.
"""

import json
import uuid

from tests.cli.test_openstack_shell import openstack


def deletes(cloud):
    return [r for r in cloud.vbs_requests() if r[0] == 'DELETE']


def dailies(cloud, days, volume_id=None, **fields):
    """A backup a day (at 02:00) for `days` days; their IDs, oldest
    first.
    """
    volume_id = volume_id or str(uuid.uuid4())
    return [cloud.add_backup('nightly-%02d' % day, volume_id=volume_id,
                             created_at='2026-11-%02dT02:00:00.000000' % day,
                             **fields)
            for day in range(1, days + 1)]


def rows(result):
    assert result.stdout, result.stderr
    return {r['ID']: r for r in json.loads(result.stdout)}


def test_without_a_rule_it_refuses_and_sends_nothing(cloud):
    dailies(cloud, 3)
    result = openstack(cloud, 'vbs', 'backup', 'prune')
    assert result.returncode == 2
    assert '--keep-last' in result.stderr and '--keep-within' in result.stderr
    assert cloud.vbs_requests() == []


def test_a_dry_run_shows_the_plan_and_a_run_carries_it_out(cloud):
    backups = dailies(cloud, 10)
    plan = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-daily', '3',
                     '--dry-run', '-f', 'json')
    assert plan.returncode == 0, plan.stderr
    planned = rows(plan)
    # Newest first, one row per backup.
    assert list(planned) == backups[::-1]
    assert [planned[b]['Action'] for b in backups] == \
        ['delete'] * 7 + ['keep'] * 3
    assert planned[backups[-1]]['Reason'] == 'daily #1'
    assert {planned[b]['Result'] for b in backups[:7]} == {'would-delete'}
    assert deletes(cloud) == []
    result = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-daily', '3',
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    assert {rows(result)[b]['Result'] for b in backups[:7]} == {'deleted'}
    assert set(cloud.backups) == set(backups[7:])
    assert '7 of 7 backups deleted, 3 kept' in result.stderr
    # Run again with the same rules: nothing to delete.
    again = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-daily', '3')
    assert again.returncode == 0, again.stderr
    assert len(deletes(cloud)) == 7


def test_only_the_volumes_named_are_touched_and_other_statuses_never(cloud):
    volume = cloud.add_volume('database')
    ours = dailies(cloud, 4, volume_id=volume)
    broken = cloud.add_backup('broken', volume_id=volume, status='error',
                              created_at='2026-10-01T02:00:00.000000')
    theirs = dailies(cloud, 4)
    result = openstack(cloud, 'vbs', 'backup', 'prune', '--volume',
                       'database', '--keep-last', '1', '-f', 'json')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    assert reported[broken]['Action'] == 'skip'
    assert reported[broken]['Reason'] == 'error'
    assert set(cloud.backups) == {ours[-1], broken, *theirs}


def test_a_cinder_chain_keeps_what_a_kept_backup_needs(cloud):
    old = cloud.add_chain(2, name='old')
    volume = cloud.backups[old[0]]['volume_id']
    kept = cloud.add_chain(3, name='new', volume_id=volume)
    result = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-last', '1',
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    # The newest incremental needs its chain back to the full backup.
    assert reported[kept[-1]]['Reason'] == 'last #1'
    for backup in kept[:-1]:
        assert reported[backup]['Action'] == 'keep'
        assert reported[backup]['Reason'].startswith('needed by')
    # The older chain goes, incrementals before the full one.
    assert set(cloud.backups) == set(kept)
    assert {reported[b]['Result'] for b in old} == {'deleted'}


def test_vbs_chains_that_report_no_dependents_keep_nothing_extra(cloud):
    volume = str(uuid.uuid4())
    backups = dailies(cloud, 5, volume_id=volume)
    for backup in backups[1:]:  # VBS: every later backup is incremental
        cloud.backups[backup]['is_incremental'] = True
    result = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-last', '2')
    assert result.returncode == 0, result.stderr
    assert set(cloud.backups) == set(backups[-2:])


def test_a_failed_deletion_is_reported_and_exits_1(cloud):
    backups = dailies(cloud, 3)

    def refuse(method, path):
        from tests.cli import hostile
        if method == 'DELETE' and backups[0] in path:
            return hostile.cinder_error(500, 'computeFault', 'disk on fire')
        return None
    cloud.misbehave = refuse
    result = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-last', '1',
                       '--retries', '0')
    assert result.returncode == 1
    assert 'disk on fire' in result.stderr
    assert '1 of 2 backups deleted, 1 kept' in result.stderr
    assert set(cloud.backups) == {backups[0], backups[-1]}


def test_a_deletion_refused_for_dependents_is_a_backup_kept(cloud):
    # The server knows of a dependent the records do not show.
    backups = dailies(cloud, 3)

    def refuse(method, path):
        from tests.cli import hostile
        if method == 'DELETE' and backups[0] in path:
            return hostile.cinder_error(
                400, 'badRequest',
                'Invalid backup: Incremental backups exist for this backup.')
        return None
    cloud.misbehave = refuse
    result = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-last', '1',
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    row = rows(result)[backups[0]]
    assert (row['Action'], row['Result']) == ('keep', 'kept')
    assert row['Reason'].startswith('needed by')
    assert set(cloud.backups) == {backups[0], backups[-1]}
