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

"""`vbs backup prune` (and `list`, `delete`) against servers that answer
oddly: the real `openstack` executable against FakeCloud, checked at the
server. A prune deletes exactly what its plan says, by the IDs its list
showed, and each row says what that request did.
"""

import json
import signal
import time
import uuid

import pytest

from tests.cli import hostile
from tests.cli.test_openstack_shell import openstack
from tests.cli import test_pipeline as shell

DAY = '2026-11-%02dT02:00:00.000000'


def prune(cloud, *argv):
    return openstack(cloud, 'vbs', 'backup', 'prune', '-f', 'json', *argv)


def rows(result):
    assert result.stdout, result.stderr
    listed = json.loads(result.stdout)
    ids = [r['ID'] for r in listed]
    assert len(ids) == len(set(ids)), ids  # one row per backup
    return {r['ID']: r for r in listed}


def requests(cloud, method):
    return [r.path for r in cloud.vbs_requests() if r.method == method]


def deleted_ids(cloud):
    """The IDs the DELETEs that arrived went to, exactly as sent."""
    return [path.rsplit('/', 1)[1] for path in requests(cloud, 'DELETE')]


def volume_of(cloud, days, start=1, **fields):
    """A volume with a backup a day (at 02:00); (volume ID, backup IDs
    oldest first).
    """
    volume_id = str(uuid.uuid4())
    return volume_id, [
        cloud.add_backup('nightly-%02d' % day, volume_id=volume_id,
                         created_at=DAY % day, **fields)
        for day in range(start, start + days)]


def check_summary(result, line):
    assert line in result.stderr, result.stderr


# -- 1. each backup once ------------------------------------------------------

@pytest.mark.parametrize('quirk', ['repeat', 'overlap'])
def test_a_record_listed_twice_is_planned_once(cloud, quirk):
    cloud.list_quirks = {quirk}
    cloud.page_size = 2
    _, [only] = volume_of(cloud, 1)
    _, older = volume_of(cloud, 3)
    result = prune(cloud, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    assert set(reported) == {only, *older}
    assert (reported[only]['Action'], reported[only]['Reason']) == \
        ('keep', 'last #1')
    assert reported[older[-1]]['Action'] == 'keep'
    # The only backup and the newest stay; each deletion was sent once.
    assert cloud.remaining() == {only, older[-1]}
    assert sorted(deleted_ids(cloud)) == sorted(older[:2])
    check_summary(result, '2 of 2 backups deleted, 2 kept')
    assert 'more than once' in result.stderr

    listed = openstack(cloud, 'vbs', 'backup', 'list', '-f', 'json')
    assert listed.returncode == 0, listed.stderr
    assert sorted(r['ID'] for r in json.loads(listed.stdout)) == \
        sorted([only, older[-1]])


# -- 2. the selection never widens --------------------------------------------

@pytest.mark.parametrize('quirks', [{'ignore-volume_id'},
                                    {'links-drop-filters'}])
def test_only_the_volumes_named_are_pruned_whatever_the_server(cloud,
                                                               quirks):
    cloud.list_quirks = quirks
    cloud.page_size = 2
    a, of_a = volume_of(cloud, 3)
    b, of_b = volume_of(cloud, 2, start=5)
    _, [of_c] = volume_of(cloud, 1, start=9)
    result = prune(cloud, '--volume', a, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    assert set(rows(result)) == set(of_a)
    assert cloud.remaining() == {of_a[-1], *of_b, of_c}

    again = prune(cloud, '--volume', a, '--volume', b, '--keep-last', '1')
    assert again.returncode == 0, again.stderr
    assert set(rows(again)) == {of_a[-1], *of_b}
    # C was never named: its only backup stays, and is never shown.
    assert cloud.remaining() == {of_a[-1], of_b[-1], of_c}
    assert sorted(deleted_ids(cloud)) == sorted(of_a[:2] + of_b[:1])
    # Every page asked for the volume, next links or not.
    lists = requests(cloud, 'GET')
    assert lists and all('volume_id=' in path for path in lists), lists


def test_list_shows_only_what_its_filters_asked_for(cloud):
    cloud.list_quirks = {'loose-name', 'ignore-status'}
    exact = cloud.add_backup('nightly')
    cloud.add_backup('nightly-old')
    cloud.add_backup('not-nightly')
    broken = cloud.add_backup('broken', status='error')
    by_name = openstack(cloud, 'vbs', 'backup', 'list', '--name', 'nightly',
                        '-f', 'value', '-c', 'ID')
    assert (by_name.returncode, by_name.stdout) == (0, exact + '\n')
    assert 'do not match the name asked for' in by_name.stderr
    by_status = openstack(cloud, 'vbs', 'backup', 'list', '--status',
                          'error', '-f', 'value', '-c', 'ID')
    assert (by_status.returncode, by_status.stdout) == (0, broken + '\n')


# -- 3. deleted by the ID listed, exactly -------------------------------------

def test_upper_case_ids_are_deleted_as_listed_and_a_failure_is_one(cloud):
    volume = str(uuid.uuid4())
    backups = [cloud.add_backup('b%d' % day, backup_id=str(
        uuid.uuid4()).upper(), volume_id=volume, created_at=DAY % day)
        for day in (1, 2, 3, 4)]
    broken = backups[1]

    def refuse(method, path):
        if method == 'DELETE' and path.endswith('/' + broken):
            return hostile.cinder_error(500, 'computeFault', 'disk on fire')
        return None
    cloud.misbehave = refuse
    result = prune(cloud, '--keep-last', '1', '--retries', '0')
    assert result.returncode == 1
    reported = rows(result)
    assert reported[broken]['Result'] == 'failed'
    assert 'disk on fire' in reported[broken]['Reason']
    assert {reported[b]['Result'] for b in (backups[0], backups[2])} == \
        {'deleted'}
    assert sorted(deleted_ids(cloud)) == sorted(backups[:3])
    assert cloud.remaining() == {broken, backups[3]}
    check_summary(result, '2 of 3 backups deleted, 1 kept')
    # A rerun tries the one left, and fails again: never exit 0.
    again = prune(cloud, '--keep-last', '1', '--retries', '0')
    assert again.returncode == 1
    assert deleted_ids(cloud)[3:] == [broken]


@pytest.mark.parametrize('style', ['hex', 'named'])
def test_ids_that_are_not_uuids_are_deleted_without_a_lookup(cloud, style):
    volume = str(uuid.uuid4())
    if style == 'hex':
        made = [(uuid.uuid4().hex, 'b%d' % n) for n in (1, 2, 3)]
    else:
        # The newest backup is *named* like the oldest one's ID.
        made = [('bk-0001', 'first'), ('bk-0002', 'second'),
                ('bk-0003', 'bk-0001')]
    backups = [cloud.add_backup(name, backup_id=backup_id, volume_id=volume,
                                created_at=DAY % n)
               for n, (backup_id, name) in enumerate(made, 1)]
    result = prune(cloud, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    assert (reported[backups[2]]['Action'], reported[backups[2]]['Result'],
            reported[backups[2]]['Reason']) == ('keep', 'kept', 'last #1')
    assert sorted(deleted_ids(cloud)) == sorted(backups[:2])
    assert not [p for p in requests(cloud, 'GET') if 'name=' in p]
    assert cloud.remaining() == {backups[2]}
    check_summary(result, '2 of 2 backups deleted, 1 kept')


# -- 4. true results for chains -----------------------------------------------

def chain_and_a_newer_full(cloud):
    """An old chain (full + 2 incrementals) and a newer full backup of the
    same volume; with --keep-last 1, the chain is to go.
    """
    chain = cloud.add_chain(2, name='old')
    volume = cloud.backups[chain[0]]['volume_id']
    newer = cloud.add_backup('new-full', volume_id=volume)
    return chain, newer


@pytest.mark.parametrize('how', ['slow', 'error_deleting'])
def test_a_chain_that_did_not_go_is_failed_not_kept(cloud, how):
    chain, newer = chain_and_a_newer_full(cloud)
    full, first, last = chain
    if how == 'slow':
        cloud.delete_duration = 30  # longer than --timeout
    else:
        cloud.delete_duration = 0.2
        cloud.end_in_error = {last}
    plan = prune(cloud, '--keep-last', '1', '--dry-run')
    assert plan.returncode == 0, plan.stderr
    assert {rows(plan)[b]['Action'] for b in chain} == {'delete'}

    result = prune(cloud, '--keep-last', '1', '--timeout', '1')
    assert result.returncode == 1, result.stderr
    reported = rows(result)
    assert reported[last]['Result'] == 'deleted'  # accepted
    for parent in (full, first):
        assert (reported[parent]['Action'], reported[parent]['Result']) \
            == ('delete', 'failed'), reported[parent]
    assert 'error_deleting' in reported[first]['Reason'] if \
        how == 'error_deleting' else 'not gone within' in \
        reported[first]['Reason']
    assert reported[newer]['Result'] == 'kept'
    check_summary(result, '1 of 3 backups deleted, 1 kept')
    # At the server: the parents are there, never deleted.
    assert {full, first} <= cloud.remaining()


def test_a_chain_kept_by_a_dependent_the_plan_keeps_is_kept(cloud):
    # The server knows of a dependent the records do not show: kept.
    volume, backups = volume_of(cloud, 3)

    def refuse(method, path):
        if method == 'DELETE' and path.endswith(backups[0]):
            return hostile.cinder_error(
                400, 'badRequest',
                'Invalid backup: Incremental backups exist for this backup.')
        return None
    cloud.misbehave = refuse
    result = prune(cloud, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    row = rows(result)[backups[0]]
    assert (row['Action'], row['Result']) == ('keep', 'kept')
    assert cloud.remaining() == {backups[0], backups[2]}


# -- 5. a gateway's 502/504 after the server acted ----------------------------

def acts_then(answer, backup_id, cloud, later=None):
    """A DELETE of backup_id carried out, then answered `answer` (and the
    ones after it `later`, if given).
    """
    sent = []

    def misbehave(method, path):
        if method != 'DELETE' or not path.endswith('/' + backup_id):
            return None
        sent.append(path)
        if len(sent) == 1:
            with cloud.lock:
                cloud.backups.pop(backup_id, None)
            return answer
        return later
    return misbehave


@pytest.mark.parametrize('status', [502, 504])
@pytest.mark.parametrize('command', ['prune', 'delete'])
def test_a_gateways_timeout_after_acting_is_checked(cloud, status, command):
    _, (old, new) = volume_of(cloud, 2)
    cloud.misbehave = acts_then(hostile.html_page(status, 'Gateway Timeout'),
                                old, cloud)
    if command == 'prune':
        result = prune(cloud, '--keep-last', '1', '--retries', '0')
    else:
        result = openstack(cloud, 'vbs', 'backup', 'delete', '-f', 'json',
                           '--retries', '0', old)
    assert result.returncode == 0, result.stderr
    row = rows(result)[old]
    assert row['Result'] == 'gone'
    assert 'gateway' in row['Reason']
    # The GET that decided came after the DELETE.
    methods = [r.method for r in cloud.vbs_requests()
               if r.path.endswith('/' + old)]
    assert methods == ['DELETE', 'GET']
    assert cloud.remaining() == {new}


def test_retries_spent_on_throttling_after_acting_are_checked(cloud):
    _, (old, new) = volume_of(cloud, 2)
    cloud.misbehave = acts_then(hostile.html_page(504, 'Gateway Timeout'),
                                old, cloud, later=hostile.throttled('0'))
    result = prune(cloud, '--keep-last', '1', '--retries', '2')
    assert result.returncode == 0, result.stderr
    assert rows(result)[old]['Result'] == 'gone'
    assert len(deleted_ids(cloud)) == 3
    assert cloud.remaining() == {new}


# -- 6. gone before its DELETE; deleting already ------------------------------

def test_a_backup_deleted_by_another_run_is_gone(cloud):
    _, backups = volume_of(cloud, 3)
    first, second = backups[:2]

    def overlap(method, path):
        # Another cron got there between our list and our DELETE.
        if method == 'DELETE' and path.endswith('/' + first):
            with cloud.lock:
                cloud.backups.pop(first, None)
        if method == 'DELETE' and path.endswith('/' + second):
            with cloud.lock:
                cloud.backups[second]['status'] = 'deleting'
            return hostile.cinder_error(
                400, 'badRequest',
                'Invalid backup: Backup status must be available or error')
        return None
    cloud.misbehave = overlap
    result = prune(cloud, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    assert reported[first]['Result'] == 'gone'
    assert 'someone else' in reported[first]['Reason']
    assert reported[second]['Result'] == 'deleted'
    assert 'already being deleted' in reported[second]['Reason']
    check_summary(result, '2 of 2 backups deleted, 1 kept')


# -- 7. odd records -----------------------------------------------------------

def test_odd_times_and_records_without_a_volume_are_skipped(cloud):
    p, of_p = volume_of(cloud, 2)
    early = cloud.add_backup('early', volume_id=p,
                             created_at='0001-01-01T00:30:00+01:00')
    q, [of_q] = volume_of(cloud, 1)
    late = cloud.add_backup('late', volume_id=q,
                            created_at='9999-12-31T23:30:00-01:00')
    homeless = [cloud.add_backup('nowhere-%d' % day, volume_id=None,
                                 created_at=DAY % day) for day in (1, 2)]
    keyless = cloud.add_backup('keyless', created_at=DAY % 3)
    del cloud.backups[keyless]['volume_id']
    result = prune(cloud, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    for odd in (early, late):
        assert (reported[odd]['Action'], reported[odd]['Reason']) == \
            ('skip', 'created_at out of range')
    for stray in (*homeless, keyless):
        assert (reported[stray]['Action'], reported[stray]['Reason']) == \
            ('skip', 'no volume ID')
    assert deleted_ids(cloud) == [of_p[0]]
    check_summary(result, '1 of 1 backups deleted, 2 kept, 5 skipped '
                          '(2 no usable time, 3 no volume)')
    assert 'Traceback' not in result.stderr


# -- 8. a signal while listing ------------------------------------------------

def signalled_while_listing(cloud, tmp_path, signum, *argv):
    """Run `argv` over four one-backup list pages that take a second each,
    signalled once the first page is asked for; (result, when signalled).
    """
    cloud.page_size = 1
    volume_of(cloud, 4)

    def slow_lists(method, path):
        if method == 'GET' and '/backups' in path:
            time.sleep(1.0)
        return None
    cloud.misbehave = slow_lists
    process = shell.start(cloud, tmp_path, *argv)
    try:
        shell.wait_for(lambda: requests(cloud, 'GET'))
        sent = time.monotonic()
        process.send_signal(signum)
    finally:
        if 'sent' not in locals():
            process.kill()
    result = shell.finish(process, timeout=30)
    assert result.returncode == shell.STATUS[signum], result.tail()
    # The page in flight ends; no page is asked for after the signal.
    late = [r.path for r in cloud.vbs_requests() if r.at > sent + 0.5]
    assert late == []
    return result


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGHUP,
                                    signal.SIGINT],
                         ids=['SIGTERM', 'SIGHUP', 'SIGINT'])
def test_a_signal_while_listing_stops_before_any_delete(cloud, tmp_path,
                                                        signum):
    result = signalled_while_listing(cloud, tmp_path, signum, 'vbs',
                                     'backup', 'prune', '--keep-last', '1')
    assert 'Interrupted while listing the backups: nothing was deleted.' \
        in result.stderr
    assert requests(cloud, 'DELETE') == []
    assert len(cloud.remaining()) == 4


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT],
                         ids=['SIGTERM', 'SIGINT'])
def test_a_signal_stops_a_list_as_it_stops_a_run(cloud, tmp_path, signum):
    result = signalled_while_listing(cloud, tmp_path, signum, 'vbs',
                                     'backup', 'list')
    assert 'Interrupted: nothing more was sent.' in result.stderr
