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

"""A property of `vbs backup prune` over random servers (hypothesis): lists
that repeat records or ignore filters, odd IDs and times, records without
a volume, slow deletions, random 500s, 503s and 504s (some after the
server acted), backups deleted by another run meanwhile.

The command runs in-process (its parser, run and exit status) over real
HTTP against FakeCloud; what is checked is the server's final state:

* every row's result agrees with it (deleted: gone or deleting; gone:
  gone; failed, kept, skipped: still there, as it was);
* nothing outside the selection, nothing kept, no volume's last
  available backup is deleted;
* exit status 0 if and only if every planned deletion is gone or
  accepted.
"""

import json
import uuid

import hypothesis
from hypothesis import strategies as st
from osc_lib import exceptions

from tests.cli.fake_cloud import FakeCloud
from tests.cli import hostile
from tests.unit.test_command import make
from vbsclient.api import retry
from vbsclient.osc import prune

DAY = '2026-11-%02dT02:00:00.000000'
ODD_TIMES = ('0001-01-01T00:30:00+01:00', '9999-12-31T23:30:00-01:00',
             'yesterday', None)
STATUSES = ('available',) * 5 + ('error', 'creating', 'deleting')
FAULTS = (None,) * 6 + ('500', '503', '504-acted', '504-not', 'gone-before',
                        'deleting-already')
QUIRKS = ('repeat', 'overlap', 'ignore-volume_id', 'links-drop-filters')
STATUS_REFUSED = ('Invalid backup: Backup status must be available or '
                  'error')


@st.composite
def backups(draw):
    return dict(
        style=draw(st.sampled_from(('uuid', 'upper', 'hex', 'plain'))),
        day=draw(st.integers(1, 9)),
        odd_time=draw(st.sampled_from((None,) * 6 + ODD_TIMES)),
        status=draw(st.sampled_from(STATUSES)),
        fault=draw(st.sampled_from(FAULTS)))


@st.composite
def servers(draw):
    volumes = draw(st.lists(st.lists(backups(), min_size=1, max_size=5),
                            min_size=1, max_size=3))
    return dict(
        volumes=volumes,
        homeless=draw(st.lists(backups(), max_size=2)),
        quirks=draw(st.sets(st.sampled_from(QUIRKS))),
        page_size=draw(st.sampled_from((None, 2, 3))),
        slow=draw(st.booleans()),
        # Indexes of the volumes named with --volume (empty: all).
        named=draw(st.sets(st.integers(0, 2), max_size=2)),
        last=draw(st.integers(0, 3)),
        daily=draw(st.integers(0, 2)))


def new_id(style, number):
    made = uuid.uuid4()
    return {'uuid': str(made), 'upper': str(made).upper(), 'hex': made.hex,
            'plain': 'bk-%04d' % number}[style]


def build(cloud, server):
    """Seed the cloud; {backup ID: its spec (with its volume)}."""
    specs = {}
    number = 0
    groups = [(str(uuid.uuid4()), v) for v in server['volumes']]
    groups.append((None, server['homeless']))
    for volume_id, members in groups:
        for spec in members:
            number += 1
            backup_id = new_id(spec['style'], number)
            created = DAY % spec['day'] if spec['odd_time'] is None \
                and number % 7 else spec['odd_time']
            # A name that is another backup's ID: a lookup would be wrong.
            name = 'bk-%04d' % (number + 1)
            cloud.add_backup(name, backup_id=backup_id, volume_id=volume_id,
                             created_at=created, status=spec['status'])
            specs[backup_id] = dict(spec, volume=volume_id)
    return specs, [volume for volume, _ in groups[:-1]]


def faults(cloud, specs):
    """The misbehave hook: each backup's fault, on its DELETEs."""
    def misbehave(method, path):
        if method != 'DELETE':
            return None
        backup_id = path.rsplit('/', 1)[1]
        fault = specs.get(backup_id, {}).get('fault')
        with cloud.lock:
            present = backup_id in cloud.backups
            if fault in ('504-acted', 'gone-before') and present:
                cloud.backups.pop(backup_id)
                return hostile.html_page(504, 'Gateway Timeout') \
                    if fault == '504-acted' else None
            if fault == 'deleting-already' and present:
                cloud.backups[backup_id]['status'] = 'deleting'
                return hostile.cinder_error(400, 'badRequest',
                                            STATUS_REFUSED)
        if fault == '500':
            return hostile.cinder_error(500, 'computeFault', 'disk on fire')
        if fault in ('503', '504-not'):
            return hostile.html_page(int(fault[:3]), 'Unavailable')
        return None
    return misbehave


def run(client, argv):
    command = make(prune.PruneBackup, client)
    parsed = command.get_parser('openstack vbs backup prune').parse_args(
        argv)
    try:
        status = command.run(parsed)
    except exceptions.CommandError:
        status = 1
    return status, json.loads(command.app.stdout.getvalue())


@hypothesis.settings(max_examples=60, deadline=None, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(servers())
def test_every_row_agrees_with_the_server_and_nothing_else_goes(server):
    retry.FIRST_DELAY, first_delay = 0.01, retry.FIRST_DELAY
    try:
        with FakeCloud() as cloud:
            check(cloud, server)
    finally:
        retry.FIRST_DELAY = first_delay


def check(cloud, server):
    if not (server['last'] or server['daily']):
        server['last'] = 1
    cloud.list_quirks = set(server['quirks'])
    cloud.page_size = server['page_size']
    if server['slow']:
        cloud.delete_duration = 0.05
    specs, volumes = build(cloud, server)
    before = {b: dict(r) for b, r in cloud.backups.items()}
    cloud.misbehave = faults(cloud, specs)
    named = [volumes[i] for i in sorted(server['named']) if i < len(volumes)]
    argv = ['-f', 'json', '--retries', '1', '--keep-last',
            str(server['last']), '--keep-daily', str(server['daily'])]
    for volume in named:
        argv += ['--volume', volume]
    status, listed = run(cloud.library_client(), argv)

    rows = {r['ID']: r for r in listed}
    assert len(rows) == len(listed), 'a backup has two rows'
    selection = {b for b, s in specs.items()
                 if (s['volume'] in named if named else True)}
    assert set(rows) == selection
    after = cloud.remaining()
    for backup_id, row in rows.items():
        result, there = row['Result'], backup_id in after
        status_now = cloud.backups[backup_id]['status'] if there else None
        if result == 'deleted':
            assert not there or status_now == 'deleting', row
        elif result == 'gone':
            assert not there, row
        else:  # failed, kept, skipped: nothing happened to it
            assert there and status_now == before[backup_id]['status'], row
        if row['Action'] == 'keep':
            assert there and status_now == before[backup_id]['status'], row
    # Nothing outside the selection changed.
    for backup_id in set(specs) - selection:
        assert backup_id in after, backup_id
        assert cloud.backups[backup_id]['status'] == \
            before[backup_id]['status']
    # No volume loses its last available backup.
    for volume in volumes:
        had = [b for b, s in specs.items() if s['volume'] == volume
               and before[b]['status'] == 'available']
        if had:
            assert any(b in after and cloud.backups[b]['status'] ==
                       'available' for b in had), volume
    planned = [r for r in listed if r['Action'] == 'delete']
    assert (status == 0) == all(r['Result'] in ('deleted', 'gone')
                                for r in planned), (status, planned)
