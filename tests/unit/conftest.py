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

"""Fixtures for unit tests: a keystoneauth session against a mocked cloud.

Nothing here touches the network: requests-mock answers every request,
including Keystone's token request, whose catalog each test chooses.
"""

import os

from keystoneauth1 import fixture as ksa_fixture
from keystoneauth1.identity import v3
from keystoneauth1 import session as ksa_session
import pytest

from vbsclient.api import client as api_client

AUTH_URL = 'http://keystone.test/v3'
PROJECT_ID = '6e9f2d1b0c8a4e3f9a7b5c3d1e0f2a4b'
TOKEN = 'gAAAA-secret-token-value'
PASSWORD = 'very-secret-password'
VBS_ROOT = 'https://vbs.test'
BACKUPS_URL = VBS_ROOT + '/v3/' + PROJECT_ID + '/backups'
VOLUMES_URL = VBS_ROOT + '/v3/' + PROJECT_ID + '/volumes'
# Backup IDs of the tests.
A = '11111111-1111-4111-8111-111111111111'
B = '22222222-2222-4222-8222-222222222222'
C = '33333333-3333-4333-8333-333333333333'
BACKUP = '592a0c4d-65a3-4051-8d51-1e2b6401b2d8'
NOT_FOUND = {'itemNotFound': {'message': 'Backup could not be found.',
                              'code': 404}}


@pytest.fixture(autouse=True)
def no_cloud_from_the_environment(monkeypatch):
    """Unit tests see no OS_* settings of the shell that runs them (such as
    the local cloud's, from `eval "$(tools/localcloud/cloud env)"`).
    """
    for name in [n for n in os.environ if n.startswith('OS_')]:
        monkeypatch.delenv(name)


def register_token(requests_mock, catalog=(), project_id=PROJECT_ID):
    """Keystone answers a token request with the given catalog.

    catalog: (service_type, url, region, interface) tuples.
    """
    token = ksa_fixture.V3Token(project_id=project_id)
    for service_type, url, region, interface in catalog:
        service = token.add_service(service_type)
        service.add_endpoint(interface, url, region=region)
    requests_mock.post(AUTH_URL + '/auth/tokens', json=token,
                       headers={'X-Subject-Token': TOKEN})
    return token


def make_session():
    auth = v3.Password(auth_url=AUTH_URL, username='operator',
                       password=PASSWORD, project_id=PROJECT_ID,
                       user_domain_id='default')
    return ksa_session.Session(auth=auth)


@pytest.fixture
def cloud(requests_mock):
    """A cloud whose catalog has a vbs entry shaped as on Open Telekom
    Cloud (another version, no project id), and Keystone.
    """
    register_token(requests_mock, [
        ('vbs', VBS_ROOT + '/v2/', 'eu-de', 'public'),
        ('identity', AUTH_URL, 'eu-de', 'public'),
    ])
    return requests_mock


@pytest.fixture
def client(cloud):
    """A client that does not retry: most tests look at one answer."""
    return api_client.BackupClient(make_session(), region_name='eu-de',
                                   retries=0)


@pytest.fixture
def pauses(monkeypatch):
    """Retry pauses are recorded instead of slept."""
    from vbsclient.api import pipeline

    recorded = []

    def pause(self, seconds, deadline, verdict):
        recorded.append(seconds)
        return not self.stopping.is_set()

    monkeypatch.setattr(pipeline.Pipeline, '_pause', pause)
    return recorded


@pytest.fixture
def retrying_client(cloud, pauses):
    return api_client.BackupClient(make_session(), region_name='eu-de',
                                   retries=3)


def vbs_calls(requests_mock):
    """The requests sent to the VBS endpoint (not to Keystone)."""
    return [r for r in requests_mock.request_history
            if r.url.startswith(VBS_ROOT)]


def backup_url(backup_id):
    return BACKUPS_URL + '/' + backup_id
