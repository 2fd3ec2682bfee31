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

"""`vbs backup prune` as restic keeps backups and as Cinder chains them
(issue 22): the real `openstack` against FakeCloud, whose chains follow
Cinder's own parent rule (cinder/backup/api.py), checked at the server;
then a hypothesis property over random histories of that model server:
the dry run's plan is what the run does, no DELETE is refused, and a
second run plans no deletion.
"""

import datetime
import json
import uuid

import hypothesis
from hypothesis import strategies as st

from tests.cli.fake_cloud import FakeCloud
from tests.cli.test_openstack_shell import openstack
from tests.cli.test_prune_property import run as run_in_process

UTC = datetime.timezone.utc


def prune(cloud, *argv):
    return openstack(cloud, 'vbs', 'backup', 'prune', '-f', 'json', *argv)


def rows(result):
    assert result.stdout, result.stderr
    return {r['ID']: r for r in json.loads(result.stdout)}


def refused(cloud):
    return [r.path for r in cloud.vbs_requests()
            if r.method == 'DELETE' and r.status == 400]


def stamp(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%S.000000')


# -- restic's rules -----------------------------------------------------------

def test_a_count_with_room_keeps_the_oldest_too(cloud):
    volume = str(uuid.uuid4())
    first, second = (cloud.add_backup('b%d' % day, volume_id=volume,
                                      created_at='2026-09-%dT02:00:00' % day)
                     for day in (22, 23))
    result = prune(cloud, '--keep-yearly', '3')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    # As restic (since 0.16) and borg (since 1.2) keep them.
    assert reported[second]['Reason'] == 'yearly #1'
    assert reported[first]['Reason'] == 'oldest yearly'
    assert cloud.remaining() == {first, second}


def test_a_backup_dated_in_the_future_does_not_age_the_others(cloud):
    volume = str(uuid.uuid4())
    now = datetime.datetime.now(UTC)
    future = cloud.add_backup('clock-gone-wrong', volume_id=volume,
                              created_at='2099-01-01T00:00:00.000000')
    real = [cloud.add_backup('day-%d' % n, volume_id=volume,
                             created_at=stamp(now - datetime.timedelta(n)))
            for n in (1, 2, 3)]
    result = prune(cloud, '--keep-within', '7d')
    assert result.returncode == 0, result.stderr
    assert {r['Action'] for r in rows(result).values()} == {'keep'}
    assert cloud.remaining() == {future, *real}


def test_unlimited_counts(cloud):
    volume = str(uuid.uuid4())
    backups = [cloud.add_backup('b%d' % n, volume_id=volume,
                                created_at='2026-10-%02dT0%d:00:00' % (1, n))
               for n in range(4)]
    result = prune(cloud, '--keep-daily', 'unlimited', '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    assert reported[backups[0]]['Reason'] == 'oldest daily'
    assert cloud.remaining() == {backups[0], backups[-1]}
    bad = prune(cloud, '--keep-daily', 'many')
    assert bad.returncode == 2 and 'unlimited' in bad.stderr


# -- Cinder's chains ----------------------------------------------------------

def test_a_failed_full_backup_does_not_cut_a_chain(cloud):
    cloud.chains = True
    volume = str(uuid.uuid4())
    parent = cloud.add_backup('full', volume_id=volume)
    failed = cloud.add_backup('failed-full', volume_id=volume,
                              status='error')
    incremental = cloud.add_backup('incremental', volume_id=volume,
                                   is_incremental=True)
    assert cloud.parents[incremental] == parent  # Cinder's choice
    plan = prune(cloud, '--keep-last', '1', '--dry-run')
    assert plan.returncode == 0, plan.stderr
    planned = rows(plan)
    assert planned[parent]['Action'] == 'keep'
    assert planned[parent]['Reason'] == 'needed by %s' % incremental
    assert planned[failed]['Action'] == 'skip'
    result = prune(cloud, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    assert [r for r in cloud.vbs_requests() if r.method == 'DELETE'] == []


def test_a_chain_goes_children_first_and_no_delete_is_refused(cloud):
    cloud.delete_duration = 0.2
    chain = cloud.add_chain(3, name='old')
    volume = cloud.backups[chain[0]]['volume_id']
    newer = cloud.add_backup('new-full', volume_id=volume)
    result = prune(cloud, '--keep-last', '1')
    assert result.returncode == 0, result.stderr
    reported = rows(result)
    assert {reported[b]['Result'] for b in chain} == {'deleted'}
    assert refused(cloud) == []
    # Each parent was sent once, after its dependent had gone.
    sent = [r.path.rsplit('/', 1)[1] for r in cloud.vbs_requests()
            if r.method == 'DELETE']
    assert sent == chain[::-1]
    assert newer in cloud.remaining()


# -- a property over a model server -------------------------------------------

START = datetime.datetime(2026, 11, 1, tzinfo=UTC)


@st.composite
def histories(draw):
    """Backups of one or two volumes, made one after the other as Cinder
    would: full or incremental, available or failed, in the same second
    or later, now and then with a clock gone years ahead.
    """
    events = []
    for volume in range(draw(st.integers(1, 2))):
        for _ in range(draw(st.integers(1, 7))):
            events.append(dict(
                volume=volume,
                step=draw(st.sampled_from((0, 0, 1, 60, 3600, 86400))),
                future=draw(st.integers(0, 12)) == 0,
                incremental=draw(st.booleans()),
                failed=draw(st.integers(0, 5)) == 0))
    return events


@st.composite
def rule_sets(draw):
    argv = []
    for rule in ('last', 'daily', 'weekly'):
        count = draw(st.sampled_from((None, 0, 1, 2, 'unlimited')))
        if count is not None:
            argv += ['--keep-' + rule, str(count)]
    within = draw(st.sampled_from((None, '2d', '1w')))
    if within:
        argv += ['--keep-within', within]
    if not any(a not in ('0',) and not a.startswith('--') for a in argv):
        argv += ['--keep-last', '1']
    return argv


def _event(step, volume=0, incremental=False, future=False, failed=False):
    return dict(volume=volume, step=step, future=future,
                incremental=incremental, failed=failed)


def seed(cloud, events):
    volumes = [str(uuid.uuid4()) for _ in range(2)]
    moment = START
    for number, event in enumerate(events):
        moment += datetime.timedelta(seconds=event['step'])
        made = moment.replace(year=2099) if event['future'] else moment
        fields = dict(volume_id=volumes[event['volume']],
                      created_at=stamp(made),
                      status='error' if event['failed'] else 'available')
        try:
            cloud.add_backup('b%02d' % number, is_incremental=event[
                'incremental'], **fields)
        except ValueError:  # Cinder: no available backup to build on
            cloud.add_backup('b%02d' % number, **fields)


def plan_of(cloud, rules):
    status, listed = run_in_process(cloud.library_client(),
                                    ['-f', 'json', '--dry-run', *rules])
    assert status == 0
    return {r['ID']: r for r in listed}


@hypothesis.settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(histories(), rule_sets())
# Cases the property found: a full backup and its incremental made in one
# second (the full was sent with it, and refused); a guessed parent that a
# rerun deletes (above).
@hypothesis.example(events=[
    _event(60), _event(0, incremental=True), _event(60, incremental=True),
    _event(3600), _event(0)], rules=['--keep-last', '1'])
@hypothesis.example(events=[
    _event(0), _event(0, incremental=True), _event(86400, future=True),
    _event(86400, incremental=True), _event(0, 1, future=True, failed=True)],
    rules=['--keep-within', '2d'])
def test_the_dry_run_is_what_the_run_does_and_no_delete_is_refused(
        events, rules):
    with FakeCloud(chains=True, delete_duration=0.02) as cloud:
        seed(cloud, events)
        plan = plan_of(cloud, rules)
        status, listed = run_in_process(cloud.library_client(),
                                        ['-f', 'json', *rules])
        done = {r['ID']: r for r in listed}
        assert {b: r['Action'] for b, r in done.items()} == \
            {b: r['Action'] for b, r in plan.items()}
        doomed = {b for b, r in plan.items() if r['Action'] == 'delete'}
        assert {b: done[b]['Result'] for b in doomed} == \
            {b: 'deleted' for b in doomed}, done
        assert status == 0
        assert refused(cloud) == []
        # At the server: exactly the plan's deletions went.
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=5)
        while set(cloud.remaining()) & doomed:
            assert datetime.datetime.now() < deadline
        assert cloud.remaining() == set(plan) - doomed
        # A rerun deletes nothing more, but for a backup kept only as a
        # possible parent, once the server reports that none depend on
        # it. With odd times (a full backup made in 2099, an incremental
        # in 2026) which backup is a parent is a guess until the run's
        # deletions have gone; a guess keeps a backup, never deletes one.
        # Found by this property.
        again = plan_of(cloud, rules)
        for backup_id, row in again.items():
            assert row['Action'] in ('keep', 'skip') or (
                'needed by' in plan[backup_id]['Reason']
                and not cloud.dependents(backup_id)), \
                (backup_id, row, plan[backup_id])
