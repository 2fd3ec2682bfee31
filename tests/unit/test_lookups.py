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

"""Names to IDs (vbsclient.api.lookups): backups, volumes, projects."""

import pytest

from tests.fixtures import recorded
from tests.unit.conftest import A
from tests.unit.conftest import BACKUP
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import make_session
from tests.unit.conftest import PROJECT_ID
from tests.unit.conftest import register_token
from tests.unit.conftest import vbs_calls
from tests.unit.conftest import VBS_ROOT
from tests.unit.conftest import VOLUMES_URL
from vbsclient.api import client as api_client
from vbsclient.api import errors


def test_a_volume_name_is_found_through_the_volume_list(client, cloud):
    cloud.get(VOLUMES_URL, json=recorded.volume_list(
        [(A, 'db'), (BACKUP, 'db2')]))
    assert client.find_volume('db', all_tenants=1) == A
    assert cloud.last_request.qs == {'name': ['db'], 'all_tenants': ['1']}
    assert client.find_volume(BACKUP.upper()) == BACKUP  # an ID: no request
    assert len(vbs_calls(cloud)) == 1


def test_volume_lookup_follows_volume_pages(client, cloud):
    cloud.get(VOLUMES_URL + '?name=db', complete_qs=True, json=dict(
        recorded.volume_list([(BACKUP, 'db')]),
        volumes_links=[{'rel': 'next', 'href': VOLUMES_URL
                        + '?name=db&marker=' + BACKUP}]))
    cloud.get(VOLUMES_URL + '?name=db&marker=' + BACKUP, complete_qs=True,
              json=recorded.volume_list([(A, 'db')]))
    with pytest.raises(errors.AmbiguousName):
        client.find_volume('db')


def test_an_id_like_project_costs_no_request(client, cloud):
    for project in (PROJECT_ID, BACKUP):
        assert client.find_project(project) == project
    assert not cloud.request_history


@pytest.mark.parametrize('catalog_url', [
    'http://keystone.test/identity', 'http://keystone.test/identity/v2.0/',
    'http://keystone.test/identity/v3'])
def test_a_project_name_is_looked_up_in_keystone_v3(cloud, catalog_url):
    register_token(cloud, [('vbs', VBS_ROOT + '/v2/', 'eu-de', 'public'),
                           ('identity', catalog_url, 'eu-de', 'public')])
    cloud.get('http://keystone.test/identity/v3/projects?name=ops',
              complete_qs=True, json=recorded.project_list(
                  [(PROJECT_ID, 'ops'), ('f' * 32, 'ops-2')]))
    client = api_client.BackupClient(make_session(), region_name='eu-de')
    assert client.find_project('ops') == PROJECT_ID
    assert cloud.last_request.headers['User-Agent'].startswith(
        'python-vbsclient')


def test_a_project_name_without_keystone_in_the_catalog(cloud):
    register_token(cloud, [('vbs', VBS_ROOT + '/v2/', 'eu-de', 'public')])
    client = api_client.BackupClient(make_session(), region_name='eu-de')
    with pytest.raises(errors.LookupFailed) as info:
        client.find_project('ops')
    assert str(info.value).startswith(
        "The project name 'ops' could not be looked up: The identity "
        "(Keystone v3) endpoint could not be found")
    assert str(info.value).endswith('Name the project by its ID.')


def test_a_backup_id_costs_no_request_and_is_lowercased(client, cloud):
    assert client.find(BACKUP.upper()) == (BACKUP, None)
    assert not cloud.request_history


def test_a_backup_name_must_match_exactly_one(client, cloud):
    cloud.get(BACKUPS_URL + '?name=db', complete_qs=True, json={'backups': [
        {'id': A, 'name': 'db'}, {'id': BACKUP, 'name': 'db'},
        {'id': 'x', 'name': 'db-old'}]})  # a loose filter's extra
    with pytest.raises(errors.AmbiguousName) as info:
        client.find('db')
    assert str(info.value) == ("2 backups are named 'db' (%s, %s): name one "
                               "by its ID." % (A, BACKUP))


def test_a_volume_name_without_a_volume_api_says_to_use_the_id(client,
                                                               cloud):
    cloud.get(VOLUMES_URL, status_code=404, text='<html>no</html>')
    with pytest.raises(errors.LookupFailed) as info:
        client.find_volume('db')
    assert str(info.value).startswith(
        "The volume name 'db' could not be looked up: ")
    assert str(info.value).endswith('Name the volume by its ID.')
