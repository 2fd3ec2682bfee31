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

"""`openstack vbs backup list` and the User-Agent, over real HTTP.

The installed `openstack` executable against FakeCloud, whose bodies come
from answers recorded on the real Cinder and Keystone.
"""

import json
import re
import subprocess
import sys
import urllib.parse

from tests.cli.fake_cloud import PROJECT_ID
from tests.cli.test_openstack_shell import openstack


def queries(requests, path_end):
    return [dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r[1]).query))
            for r in requests if r[1].split('?')[0].endswith(path_end)]


def installed_version():
    """The version the installed `openstack` sees (the source tree's own
    metadata may differ), asked away from the tree.
    """
    return subprocess.run(
        [sys.executable, '-c', 'import importlib.metadata as m; '
         'print(m.version("python-vbsclient"))'], cwd='/',
        capture_output=True, text=True, check=True).stdout.strip()


def test_requests_carry_the_plugins_user_agent(cloud):
    cloud.add_backup('agent')
    result = openstack(cloud, 'vbs', 'backup', 'list', '--project',
                       'operators')
    assert result.returncode == 0, result.stderr
    product = 'python-vbsclient/%s' % installed_version()
    # To VBS, and to Keystone for the project's name.
    looked_up = [r for r in cloud.identity_requests()
                 if '/projects' in r[1]]
    assert looked_up and cloud.vbs_requests()
    for _, _, headers in looked_up + cloud.vbs_requests():
        assert product in headers['User-Agent'].split()


def test_long_list_of_a_volume_named_shows_incremental(cloud):
    volume = cloud.add_volume('database')
    full = cloud.add_backup('full', volume_id=volume, description=None,
                            has_dependent_backups=True)
    incremental = cloud.add_backup('incremental', volume_id=volume,
                                   is_incremental=True)
    cloud.add_backup('other volume')
    result = openstack(cloud, 'vbs', 'backup', 'list', '--volume',
                       'database', '--long', '-f', 'json')
    assert result.returncode == 0, result.stderr
    rows = {r['ID']: r for r in json.loads(result.stdout)}
    assert set(rows) == {full, incremental}
    assert (rows[full]['Incremental'], rows[incremental]['Incremental']) == (
        False, True)
    assert rows[full]['Volume'] == volume
    assert rows[full]['Description'] is None  # JSON keeps null
    assert queries(cloud.vbs_requests(), '/volumes') == [{'name': 'database'}]
    # The table shows the empty description as empty, not "None".
    table = openstack(cloud, 'vbs', 'backup', 'list', '--volume', volume,
                      '-c', 'Name', '-c', 'Description')
    assert table.returncode == 0, table.stderr
    assert re.search(r'^\| full +\| +\|$', table.stdout, re.M)
    assert 'None' not in table.stdout


def test_max_items_and_limit_page_through_cinders_pages(cloud):
    cloud.page_size = 2  # the server's most a page (osapi_max_limit)
    backups = [cloud.add_backup('b%d' % n) for n in range(5)]
    result = openstack(cloud, 'vbs', 'backup', 'list', '--limit', '1',
                       '--max-items', '3', '-f', 'value', '-c', 'ID')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == backups[:3]
    assert result.stderr == ''
    assert [q.get('limit') for q in queries(cloud.requests, '/detail')] == [
        '1', '1', '1']


def test_limit_alone_is_the_page_size_as_in_osc(cloud):
    backups = [cloud.add_backup('b%d' % n) for n in range(5)]
    result = openstack(cloud, 'vbs', 'backup', 'list', '--limit', '2',
                       '-f', 'value', '-c', 'ID')
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted(backups)
    assert result.stderr == ''
    pages = queries(cloud.vbs_requests(), '/detail')
    assert len(pages) == 3 and all(p['limit'] == '2' for p in pages)


def test_all_projects_and_an_unknown_marker(cloud):
    result = openstack(cloud, 'vbs', 'backup', 'list', '--all-projects',
                       '--project', PROJECT_ID, '--marker',
                       '0d6f4c59-5d0c-4a39-a1a4-000000000000')
    assert result.returncode == 1
    assert queries(cloud.vbs_requests(), '/detail') == [{
        'all_tenants': '1', 'project_id': PROJECT_ID,
        'marker': '0d6f4c59-5d0c-4a39-a1a4-000000000000'}]
    [line] = result.stderr.strip().splitlines()
    assert line.startswith('Backup 0d6f4c59-5d0c-4a39-a1a4-000000000000 '
                           'could not be found. (HTTP 404')
