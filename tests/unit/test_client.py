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

"""The requests the client sends for its verbs, and how it binds to a run."""

import importlib.metadata

import pytest

from tests.fixtures import recorded
from tests.unit.conftest import A
from tests.unit.conftest import BACKUP
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import make_session
from tests.unit.conftest import PROJECT_ID
from tests.unit.conftest import vbs_calls
from tests.unit.conftest import VBS_ROOT
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


def test_list_detail_and_filters(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list([]))
    assert list(client.list(detailed=True, status='error', volume_id='v',
                            name=None, all_tenants=1,
                            project_id=PROJECT_ID)) == []
    assert cloud.last_request.qs == {
        'status': ['error'], 'volume_id': ['v'], 'all_tenants': ['1'],
        'project_id': [PROJECT_ID]}


# -- answers that are not the API's -------------------------------------------


def test_an_endpoint_override_is_checked_before_any_request(cloud):
    client = api_client.BackupClient(
        make_session(), endpoint_override='https://u:pw@vbs.test/v3')
    with pytest.raises(errors.ConfigurationError) as info:
        client.check_endpoint()
    assert 'pw' not in str(info.value)
    assert not cloud.request_history


def test_a_client_bound_to_no_run_makes_each_call_one_run(client, cloud,
                                                          monkeypatch):
    # A list's pages share one pipeline (one breaker, one token guard),
    # as a command's requests do; the next call starts afresh.
    made = []
    real = pipeline.Pipeline

    def counted(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]
    monkeypatch.setattr(pipeline, 'Pipeline', counted)
    links = [{'rel': 'next', 'href': BACKUPS_URL + '?marker=%d' % n}
             for n in range(3)]
    cloud.get(BACKUPS_URL, json={'backups': [{'id': 'p0'}],
                                 'backups_links': links[:1]})
    for n in (0, 1):
        cloud.get(BACKUPS_URL + '?marker=%d' % n, complete_qs=True, json={
            'backups': [{'id': 'p%d' % (n + 1)}],
            'backups_links': links[n + 1:n + 2] if n == 0 else []})
    assert [b['id'] for b in client.list()] == ['p0', 'p1', 'p2']
    assert len(made) == 1
    cloud.get(backup_url(A), json={'backup': {'id': A}})
    client.get(A)
    assert len(made) == 2
    # A client bound to a run makes none.
    bound = client.bound(pipeline=real())
    bound.get(A)
    list(bound.list())
    assert len(made) == 2
