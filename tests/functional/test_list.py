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

"""`openstack vbs backup list` on the real Cinder: columns, lookups by
name, paging and the admin scope, as `openstack volume backup list`.
"""

import json
import uuid

import pytest

from tests.functional.conftest import cloud_tool
from tests.functional.conftest import new_id


@pytest.fixture(scope='module')
def pair(server):
    """A real volume with a full backup and an incremental one of it."""
    tag = uuid.uuid4().hex[:8]
    volume = cloud_tool('seed-volume', '--name', 'list-' + tag)
    made = []
    try:
        made.append(cloud_tool('seed-backup', '--volume', volume['id'],
                               '--name', 'list-full-' + tag)['id'])
        made.append(cloud_tool('seed-backup', '--volume', volume['id'],
                               '--name', 'list-incremental-' + tag,
                               '--incremental')['id'])
        yield volume, made[0], made[1]
    finally:
        for backup_id in reversed(made):  # the incremental one first
            server.force_delete(backup_id)
            server.wait_gone(backup_id)
        server.session.delete(server.base + '/volumes/' + volume['id'],
                              raise_exc=False)


def listed(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_long_shows_incremental_of_a_volume_named(openstack, pair):
    volume, full, incremental = pair
    rows = listed(openstack('vbs', 'backup', 'list', '--volume',
                            volume['name'], '--long', '-f', 'json'))
    assert {r['ID']: r['Incremental'] for r in rows} == {
        full: False, incremental: True}
    assert {r['Volume'] for r in rows} == {volume['id']}
    assert all(r['Container'] and r['Availability Zone'] for r in rows)


def test_marker_by_name_and_empty_fields(openstack, server, pair):
    volume, full, incremental = pair
    # Newest first: after the incremental backup comes the full one.
    name = server.backup(incremental)['name']
    result = openstack('vbs', 'backup', 'list', '--volume', volume['id'],
                       '--marker', name, '-f', 'value', '-c', 'ID',
                       '-c', 'Description')
    assert result.returncode == 0, result.stderr
    # No description: an empty field, not "None".
    assert result.stdout == '%s \n' % full


def test_max_items_and_limit_page_through(openstack, rows):
    # The local cloud serves at most 100 backups a page.
    volume = new_id()
    backups = set(rows(150, volume_id=volume))
    base = ('vbs', 'backup', 'list', '--volume', volume, '-f', 'value',
            '-c', 'ID')
    # --limit is the page size only, as in `openstack volume backup list`:
    # alone, it follows every page.
    for paging, count in ((['--max-items', '120'], 120),
                          (['--limit', '40', '--max-items', '130'], 130),
                          (['--limit', '40'], 150)):
        result = openstack(*base, *paging)
        assert result.returncode == 0, result.stderr
        ids = result.stdout.split()
        assert len(ids) == len(set(ids)) == count and set(ids) <= backups
        assert result.stderr == ''
    everything = openstack(*base, '--limit', '40', '--max-items', '1000')
    assert set(everything.stdout.split()) == backups


def test_all_projects_and_project_by_name(openstack, rows):
    volume = new_id()
    backups = set(rows(2, volume_id=volume))
    for scope, expected in ((['--all-projects'], backups),
                            (['--project', 'admin'], backups),
                            (['--project', 'service'], set())):
        result = openstack('vbs', 'backup', 'list', '--volume', volume,
                           *scope, '-f', 'json')
        assert {r['ID'] for r in listed(result)} == expected, scope


def test_names_that_match_nothing_are_one_line(openstack):
    for option, thing in (('--volume', 'volume'), ('--project', 'project'),
                          ('--marker', 'backup')):
        result = openstack('vbs', 'backup', 'list', option,
                           'no-such-' + uuid.uuid4().hex)
        assert result.returncode == 1
        [line] = result.stderr.strip().splitlines()
        assert line.startswith('No %s with name or ID' % thing)
