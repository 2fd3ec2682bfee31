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

import pytest

from tests.unit.conftest import make_session
from tests.unit.conftest import PROJECT_ID
from tests.unit.conftest import register_token
from tests.unit.conftest import vbs_calls
from vbsclient.api import client as api_client
from vbsclient.api import endpoint
from vbsclient.api import errors
from vbsclient.osc import hints

P = PROJECT_ID


@pytest.mark.parametrize('catalog_url, expected', [
    # Open Telekom Cloud: another version, no project id.
    ('https://vbs.eu-de.otc.t-systems.com/v2/',
     'https://vbs.eu-de.otc.t-systems.com/v3/' + P),
    # Huawei Cloud: another version with the project id.
    ('https://vbs.ap-southeast-1.myhuaweicloud.com/v2/' + P,
     'https://vbs.ap-southeast-1.myhuaweicloud.com/v3/' + P),
    # Already right.
    ('http://127.0.0.1:8776/v3/' + P, 'http://127.0.0.1:8776/v3/' + P),
    # No version, no project.
    ('https://vbs.example.com', 'https://vbs.example.com/v3/' + P),
    # No version, with the project id.
    ('https://vbs.example.com/' + P, 'https://vbs.example.com/v3/' + P),
    # A path prefix before the version is kept; minor versions count.
    ('https://api.example.com/volume/v2.1/',
     'https://api.example.com/volume/v3/' + P),
    # Another project's id after the version is replaced by ours.
    ('https://vbs.example.com/v3/0000aaaa', 'https://vbs.example.com/v3/' + P),
])
def test_catalog_urls_are_normalised_to_v3_and_project(catalog_url, expected):
    assert endpoint.normalise(catalog_url, P, '3') == expected


def test_normalise_to_v2_when_version_2_is_configured():
    assert (endpoint.normalise('https://vbs.example.com/v3/', P, '2')
            == 'https://vbs.example.com/v2/' + P)


def test_catalog_lookup_uses_service_type_region_and_interface(requests_mock):
    register_token(requests_mock, [
        ('vbs', 'https://vbs.one.test/v2/', 'RegionOne', 'public'),
        ('vbs', 'https://vbs.two.test/v2/', 'RegionTwo', 'public'),
        ('vbs', 'https://vbs-internal.two.test/v2/', 'RegionTwo', 'internal'),
        ('vbsv3', 'https://other.test/v3/' + P, 'RegionOne', 'public'),
    ])
    session = make_session()
    found = endpoint.from_catalog(session, 'vbs', 'internal', 'RegionTwo', '3')
    assert found == 'https://vbs-internal.two.test/v3/' + P
    found = endpoint.from_catalog(session, 'vbsv3', 'public', 'RegionOne', '3')
    assert found == 'https://other.test/v3/' + P


def test_missing_endpoint_says_what_was_looked_for_and_how_to_override(
        requests_mock):
    register_token(requests_mock, [
        ('volumev3', 'https://evs.test/v3/' + P, 'eu-de', 'public')])
    client = api_client.BackupClient(make_session(), region_name='eu-nl',
                                     interface='internal')
    with pytest.raises(errors.EndpointNotFound) as info:
        client.delete('592a0c4d-65a3-4051-8d51-1e2b6401b2d8')
    message = str(info.value)
    for expected in ("'vbs'", 'eu-nl', 'internal', 'vbs_endpoint_override',
                     '%(project_id)s'):
        assert expected in message
    assert '\n' not in message
    # The API layer names no option; the CLI layer adds them.
    assert '--os-vbs' not in message
    cli_message = hints.with_hint(message, info.value)
    for expected in ('--os-vbs-endpoint-override', '--os-vbs-service-type'):
        assert expected in cli_message
    assert not vbs_calls(requests_mock)


def test_override_wins_over_the_catalog_and_gets_the_project_id(cloud):
    url = 'https://override.test/v3/%(project_id)s'
    client = api_client.BackupClient(make_session(), endpoint_override=url)
    target = 'https://override.test/v3/%s/backups/%s' % (
        P, '592a0c4d-65a3-4051-8d51-1e2b6401b2d8')
    cloud.delete(target, status_code=202)
    client.delete('592a0c4d-65a3-4051-8d51-1e2b6401b2d8')
    assert cloud.last_request.url == target
