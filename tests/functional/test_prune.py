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

"""`openstack vbs backup prune` on the real Cinder: retention by volume
name and ID, over a whole project, real incremental chains, a dry run, a
second run, and a run stopped by Ctrl-C.

A real backup is always dated now, so the backups that retention sorts
into days and weeks are seeded rows (`cloud seed-rows --created-at`),
which a real DELETE removes the whole way. Outcomes are checked at the
server.
"""

import json
import signal
import subprocess
import time

import pytest

from tests.functional.conftest import _tag
from tests.functional.conftest import cloud_tool
from tests.functional.conftest import new_id
from tests.functional.conftest import OPENSTACK

DAY = 86400
# Microversion 3.45: a backup list answers with a count.
COUNTED = {'OpenStack-API-Version': 'volume 3.45'}


@pytest.fixture
def dated(server):
    """dated(count, first, step, volume_id) -> IDs, oldest first: seeded
    available rows of the volume, the first created at `first` (UTC),
    each next one `step` seconds later. Force-deleted afterwards.
    """
    made = []

    def make(count, first, step, volume_id):
        made.extend(row['id'] for row in cloud_tool(
            'seed-rows', '--count', str(count), '--name-prefix',
            'dated-' + _tag(), '--volume-id', volume_id,
            '--created-at', first, '--step', str(step)))
        return made[-count:]

    yield make
    for backup_id in made:
        server.force_delete(backup_id)


def statuses(server, volume_id):
    """{backup ID: status} of the volume's backups, as the server lists
    them (paged: the local cloud serves at most 100 a page).
    """
    found, marker = {}, None
    while True:
        path = '/backups/detail?volume_id=%s&limit=100' % volume_id
        if marker:
            path += '&marker=' + marker
        page = server._get(path)['backups']
        if not page:
            return found
        found.update((b['id'], b['status']) for b in page)
        marker = page[-1]['id']


def available(server, volume_id):
    answer = server.session.get(
        server.base + '/backups?volume_id=%s&status=available'
        '&with_count=true&limit=1' % volume_id, headers=COUNTED)
    answer.raise_for_status()
    return answer.json()['count']


def rows_of(result):
    assert result.stdout, result.stderr
    return {row['ID']: row for row in json.loads(result.stdout)}


def summary(result):
    return result.stderr.strip().splitlines()[-1]


def test_dry_run_then_run_then_again_by_volume_id(openstack, server, rows,
                                                  dated):
    volume = new_id()
    # Four weeks of nightlies: January 1 to 28, 2025 (a Wednesday first).
    nightly = dated(28, '2025-01-01T02:00:00', DAY, volume)
    [broken] = rows(1, status='error', volume_id=volume)
    rules = ('--keep-daily', '7', '--keep-weekly', '4')
    # The 7 newest days, and the newest of ISO weeks 2 to 5: the 12th and
    # the 19th besides.
    days = (12, 19, 22, 23, 24, 25, 26, 27, 28)
    kept = {nightly[day - 1] for day in days}
    doomed = set(nightly) - kept

    plan = openstack('vbs', 'backup', 'prune', '--volume', volume, *rules,
                     '--dry-run', '-f', 'json')
    assert plan.returncode == 0, plan.stderr
    planned = rows_of(plan)
    assert set(planned) == set(nightly) | {broken}
    assert {b for b, r in planned.items() if r['Action'] == 'delete'} == \
        doomed
    assert {planned[b]['Result'] for b in doomed} == {'would-delete'}
    assert {planned[b]['Result'] for b in kept} == {'kept'}
    assert planned[nightly[-1]]['Reason'] == 'daily #1, weekly #1'
    assert planned[nightly[11]]['Reason'] == 'weekly #4'
    assert (planned[broken]['Action'], planned[broken]['Reason']) == (
        'skip', 'error')
    assert summary(plan) == ('19 of 19 backups would be deleted, 9 kept, '
                             '1 skipped (1 not available).')
    on_server = statuses(server, volume)
    assert on_server == dict({b: 'available' for b in nightly},
                             **{broken: 'error'})

    result = openstack('vbs', 'backup', 'prune', '--volume', volume, *rules,
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    done = rows_of(result)
    assert {done[b]['Result'] for b in doomed} == {'deleted'}
    assert all(done[b]['Request ID'].startswith('req-') for b in doomed)
    assert summary(result) == ('19 of 19 backups deleted, 9 kept, '
                               '1 skipped (1 not available).')
    for backup in doomed:
        server.wait_gone(backup)
    assert statuses(server, volume) == dict(
        {b: 'available' for b in kept}, **{broken: 'error'})

    # The same rules again: nothing more to delete, nothing sent.
    again = openstack('vbs', 'backup', 'prune', '--volume', volume, *rules,
                      '-f', 'json')
    assert again.returncode == 0, again.stderr
    assert {r['Action'] for r in rows_of(again).values()} == {'keep',
                                                              'skip'}
    assert summary(again) == ('0 of 0 backups deleted, 9 kept, '
                              '1 skipped (1 not available).')
    assert len(statuses(server, volume)) == 10


def test_a_real_chain_by_volume_name_with_wait(openstack, server, dated):
    name = 'prune-' + _tag()
    volume = cloud_tool('seed-volume', '--name', name)['id']
    # Older rows of the same volume, then two real chains: a full backup
    # and an incremental each, the newest last.
    old = dated(3, '2025-01-01T02:00:00', DAY, volume)
    chain = []
    for incremental in (False, True, False, True):
        args = ['seed-backup', '--volume', volume]
        chain.append(cloud_tool(*args + ['--incremental'] * incremental)
                     ['id'])
    first_full, first_inc, full, newest = chain

    result = openstack('vbs', 'backup', 'prune', '--volume', name,
                       '--keep-last', '1', '--wait', '-f', 'json')
    assert result.returncode == 0, result.stderr
    done = rows_of(result)
    assert list(done) == chain[::-1] + old[::-1]  # newest first
    assert done[newest]['Reason'] == 'last #1'
    # The newest incremental needs its full backup: kept, and said why.
    assert done[full]['Action'] == 'keep'
    assert done[full]['Reason'] == 'needed by %s' % newest
    assert done[full]['Incremental'] is False
    assert done[newest]['Incremental'] is True
    for backup in [first_full, first_inc] + old:
        assert done[backup]['Action'] == 'delete'
        assert done[backup]['Result'] == 'gone'
    assert summary(result) == '5 of 5 backups deleted, 2 kept.'
    assert statuses(server, volume) == {full: 'available',
                                        newest: 'available'}

    again = openstack('vbs', 'backup', 'prune', '--volume', volume,
                      '--keep-last', '1', '-f', 'json')
    assert again.returncode == 0, again.stderr
    assert {r['Action'] for r in rows_of(again).values()} == {'keep'}
    # Leave no real backups behind (the chain in one command).
    gone = openstack('vbs', 'backup', 'delete', '--wait', full, newest)
    assert gone.returncode == 0, gone.stderr


def test_a_whole_project_touches_only_available_backups(openstack, server,
                                                        rows, dated):
    volumes = [new_id() for _ in range(3)]
    # Eight backups 90 days apart: within a year of the newest are the
    # five newest (270 days after the first and later).
    seeded = {v: dated(8, '2023-01-01T00:00:00', 90 * DAY, v)
              for v in volumes}
    others = {v: (rows(1, status='error', volume_id=v)
                  + rows(1, status='creating', volume_id=v))
              for v in volumes}
    doomed = {b for v in volumes for b in seeded[v][:3]}

    # Every volume of the project, each on its own. A year also keeps
    # whatever else the project holds, as it was all made today.
    result = openstack('vbs', 'backup', 'prune', '--keep-within', '1y',
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    done = rows_of(result)
    assert {b for b, r in done.items() if r['Action'] == 'delete'} == doomed
    assert {done[b]['Result'] for b in doomed} == {'deleted'}
    for volume in volumes:
        for backup in seeded[volume][3:]:
            assert done[backup]['Action'] == 'keep'
            assert done[backup]['Reason'] == 'within 1y'
        error, creating = others[volume]
        assert (done[error]['Action'], done[error]['Reason']) == (
            'skip', 'error')
        assert (done[creating]['Action'], done[creating]['Reason']) == (
            'skip', 'creating')
    assert summary(result).startswith('9 of 9 backups deleted, ')
    for backup in doomed:
        server.wait_gone(backup)
    for volume in volumes:
        error, creating = others[volume]
        assert statuses(server, volume) == dict(
            {b: 'available' for b in seeded[volume][3:]},
            **{error: 'error', creating: 'creating'})


def test_ctrl_c_stops_the_prune_and_accounts_for_every_backup(
        cloud_env, server, dated):
    volume = new_id()
    hourly = dated(300, '2025-03-01T00:00:00', 3600, volume)
    doomed = set(hourly[:-5])
    argv = [OPENSTACK, '--os-cloud', 'vbs-local', 'vbs', 'backup', 'prune',
            '--volume', volume, '--keep-last', '5', '--parallel', '2',
            '-f', 'json']
    process = subprocess.Popen(argv, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=cloud_env)
    try:
        deadline = time.monotonic() + 60
        while available(server, volume) > 280:  # 20 DELETEs accepted
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, 'no DELETE in 60 s'
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 130, err
    assert 'Traceback' not in err
    assert 'Interrupted: ' in err
    done = rows_of(subprocess.CompletedProcess(argv, 130, out, err))
    assert len(json.loads(out)) == 300  # every backup, once
    assert set(done) == set(hourly)
    assert {b for b, r in done.items() if r['Action'] == 'delete'} == doomed
    results = {b: done[b]['Result'] for b in doomed}
    assert set(results.values()) == {'deleted', 'not-attempted'}, \
        set(results.values())
    deleted = [b for b, r in results.items() if r == 'deleted']
    assert 20 <= len(deleted) < len(doomed)
    on_server = statuses(server, volume)
    for backup, outcome in results.items():
        # Nothing reported deleted that the server still has available,
        # and nothing left out that it does not.
        assert (outcome == 'deleted') == (
            on_server.get(backup) != 'available'), (backup, outcome)
    for backup in hourly[-5:]:
        assert on_server[backup] == 'available'

    # Run again: the rest goes; what is already being deleted is left
    # alone.
    again = subprocess.run(argv, capture_output=True, text=True,
                           env=cloud_env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert available(server, volume) == 5
