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

"""The requests the client sends, and ID safety."""

import importlib.metadata

import pytest

from tests.fixtures import recorded
from tests.unit.conftest import A
from tests.unit.conftest import BACKUP
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import make_session
from tests.unit.conftest import PROJECT_ID
from tests.unit.conftest import register_token
from tests.unit.conftest import vbs_calls
from tests.unit.conftest import VBS_ROOT
from tests.unit.conftest import VOLUMES_URL
from vbsclient.api import client as api_client
from vbsclient.api import endpoint
from vbsclient.api import errors
from vbsclient.api import pipeline


def test_delete_is_one_delete_request_to_the_v3_path(client, cloud):
    cloud.delete(backup_url(BACKUP), status_code=202,
                 headers={'x-openstack-request-id': 'req-1'})
    assert client.delete(BACKUP) == 'req-1'
    calls = vbs_calls(cloud)
    assert [(c.method, c.url) for c in calls] == [
        ('DELETE', '%s/v3/%s/backups/%s' % (VBS_ROOT, PROJECT_ID, BACKUP))]
    assert calls[0].headers['X-Auth-Token']


def test_version_2_uses_the_v2_path(cloud):
    client = api_client.BackupClient(make_session(), api_version='2')
    url = '%s/v2/%s/backups/%s' % (VBS_ROOT, PROJECT_ID, BACKUP)
    cloud.delete(url, status_code=202)
    client.delete(BACKUP)
    assert cloud.last_request.url == url


def test_force_delete_posts_the_action(client, cloud):
    cloud.post(backup_url(BACKUP) + '/action', status_code=202)
    client.force_delete(BACKUP)
    assert cloud.last_request.json() == {'os-force_delete': {}}
    assert len(vbs_calls(cloud)) == 1


def test_get_returns_the_record(client, cloud):
    cloud.get(backup_url(BACKUP), json={'backup': recorded.backup(BACKUP)})
    assert client.get(BACKUP) == recorded.backup(BACKUP)


def test_requests_name_the_client_in_their_user_agent(client, cloud):
    cloud.get(backup_url(BACKUP), json={'backup': recorded.backup(BACKUP)})
    client.get(BACKUP)
    version = importlib.metadata.version('python-vbsclient')
    [call] = vbs_calls(cloud)
    assert call.headers['User-Agent'].startswith(
        'python-vbsclient/%s ' % version)


def test_the_user_agent_is_the_name_alone_without_a_version(
        cloud, monkeypatch):
    # Run from a source tree that is not installed: no version to tell.
    monkeypatch.setattr(endpoint, 'client_version', lambda: None)
    client = api_client.BackupClient(make_session(), region_name='eu-de')
    cloud.get(backup_url(BACKUP), json={'backup': recorded.backup(BACKUP)})
    client.get(BACKUP)
    agent = cloud.last_request.headers['User-Agent']
    assert agent.startswith('python-vbsclient ')


def test_list_follows_next_links_on_our_own_endpoint(client, cloud):
    # The server's link names another host: only its query is used.
    daily = [recorded.summary(recorded.backup(i, name='daily'))
             for i in ('a', 'b')]
    cloud.get(BACKUPS_URL + '?name=daily', complete_qs=True,
              json=recorded.backup_list(
                  daily[:1], 'http://internal-host:8776/v3/x/backups'
                  '?name=daily&marker=a'))
    cloud.get(BACKUPS_URL + '?name=daily&marker=a', complete_qs=True,
              json=recorded.backup_list(daily[1:]))
    assert [b['id'] for b in client.list(name='daily')] == ['a', 'b']
    assert all(c.url.startswith(VBS_ROOT) for c in vbs_calls(cloud))
    assert not [r for r in cloud.request_history if 'internal-host' in r.url]


def test_list_detail_and_filters(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list([]))
    assert list(client.list(detailed=True, status='error', volume_id='v',
                            name=None, all_tenants=1,
                            project_id=PROJECT_ID)) == []
    assert cloud.last_request.qs == {
        'status': ['error'], 'volume_id': ['v'], 'all_tenants': ['1'],
        'project_id': [PROJECT_ID]}


def test_list_reads_cinders_recorded_pages(client, cloud):
    # The pages as the real Cinder sent them, next links included.
    pages = [recorded.answer('backup-list-detail-page-%d' % n)
             for n in (1, 2, 3)]
    for page in pages:
        query = page['request']['url'].split('?')[1]
        cloud.get(BACKUPS_URL + '/detail?' + query, complete_qs=True,
                  json=page['body'])
    volume_id = pages[0]['body']['backups'][0]['volume_id']
    listed = list(client.list(detailed=True, volume_id=volume_id, limit=1))
    assert [b['is_incremental'] for b in listed] == [True, False]
    assert len(vbs_calls(cloud)) == 3


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


def test_list_stops_when_the_next_link_points_back(client, cloud):
    cloud.get(BACKUPS_URL, json={
        'backups': [{'id': 'a', 'name': 'x'}],
        'backups_links': [{'rel': 'next', 'href': BACKUPS_URL + '?marker=a'}]})
    with pytest.raises(errors.VbsError) as info:
        list(client.list())
    assert 'same backup list page twice' in str(info.value)
    assert len(vbs_calls(cloud)) == 2


# -- answers that are not the API's -------------------------------------------

GATEWAY_404 = {'error_code': 'APIGW.0101', 'error_msg': 'No such API.'}


def test_a_foreign_404_means_gone_when_the_endpoint_serves_backups(
        client, cloud):
    cloud.get(backup_url(A), status_code=404, json=GATEWAY_404)
    cloud.get(BACKUPS_URL + '?limit=1', json={'backups': []})
    run = client.bound(pipeline=pipeline.Pipeline())
    for _ in range(3):
        with pytest.raises(errors.NotFound):
            run.get(A)
    probes = [r for r in vbs_calls(cloud) if r.query == 'limit=1']
    assert len(probes) == 1  # asked once, remembered for the run
    # ...and only for the run: the next one asks again.
    with pytest.raises(errors.NotFound):
        client.bound(pipeline=pipeline.Pipeline()).get(A)
    probes = [r for r in vbs_calls(cloud) if r.query == 'limit=1']
    assert len(probes) == 2


def test_a_foreign_404_from_a_wrong_endpoint_is_not_gone(client, cloud):
    cloud.get(backup_url(A), status_code=404, json=GATEWAY_404)
    cloud.get(BACKUPS_URL + '?limit=1', status_code=404, json=GATEWAY_404)
    with pytest.raises(errors.ApiError) as info:
        client.get(A)
    assert not isinstance(info.value, errors.NotFound)
    assert 'does not look like the backup API' in str(info.value)


@pytest.mark.parametrize('answer, expected', [
    ({'status_code': 200}, 'HTTP 200, not the backup API\'s 202'),
    ({'status_code': 204}, 'HTTP 204'),
    ({'status_code': 307, 'headers': {'Location': 'https://evil.test/x'}},
     "redirect to host 'evil.test'"),
    ({'status_code': 304}, 'redirect without a location'),
])
def test_a_delete_counts_only_with_the_apis_202(client, cloud, answer,
                                                expected):
    cloud.delete(backup_url(A), **answer)
    with pytest.raises(errors.UnexpectedAnswer) as info:
        client.delete(A)
    assert expected in str(info.value)
    assert '--' not in str(info.value)  # no CLI option in the API layer


def test_an_endpoint_override_is_checked_before_any_request(cloud):
    client = api_client.BackupClient(
        make_session(), endpoint_override='https://u:pw@vbs.test/v3')
    with pytest.raises(errors.ConfigurationError) as info:
        client.check_endpoint()
    assert 'pw' not in str(info.value)
    assert not cloud.request_history
