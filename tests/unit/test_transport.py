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

"""One attempt (vbsclient.api.transport): its Answer, its body read up to
its cap, no redirect followed, and a session's connections mounted.

Real sockets, deadlines and hostile servers: tests/cli/test_hostile_servers.
"""

import logging
import time

from keystoneauth1 import adapter as ksa_adapter
from keystoneauth1 import session as ksa_session
import pytest
import requests

from tests.unit.conftest import BACKUP
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from vbsclient.api import errors
from vbsclient.api import transport

ROOT = BACKUPS_URL.rsplit('/backups', 1)[0]


@pytest.fixture
def place():
    """An adapter as the client's, with no authentication to mock."""
    return ksa_adapter.Adapter(session=ksa_session.Session(),
                               endpoint_override=ROOT)


def send(place, method='GET', path='backups/' + BACKUP, **kwargs):
    return transport.send(place, method, path, 3, 7, **kwargs)


def test_an_answer_is_read_whole_with_what_the_caller_needs(
        place, requests_mock):
    requests_mock.get(backup_url(BACKUP), status_code=200, reason='OK',
                      json={'backup': {'id': BACKUP}}, headers={
                          'Content-Type': 'application/json; charset=UTF-8',
                          'X-Compute-Request-Id': 'req-7'})
    answer = send(place)
    assert (answer.method, answer.status, answer.reason) == ('GET', 200, 'OK')
    assert answer.body == b'{"backup": {"id": "%s"}}' % BACKUP.encode()
    assert answer.url == backup_url(BACKUP)
    assert answer.content_type == 'application/json'
    assert answer.request_id == 'req-7'
    assert not answer.truncated
    # The timeouts go with the request; no token renewal of its own.
    assert requests_mock.last_request.timeout == (3, 7)


def test_a_budget_shorter_than_the_timeouts_bounds_them(place, requests_mock):
    requests_mock.get(backup_url(BACKUP), status_code=200)
    send(place, budget=2)
    assert requests_mock.last_request.timeout == (2, 2)
    send(place, budget=5)
    assert requests_mock.last_request.timeout == (3, 5)


def slow(seconds):
    def answer(request, context):
        time.sleep(seconds)
        return 'late but whole'
    return answer


def test_an_answer_past_the_budget_is_no_answer(place, requests_mock):
    # The watchdog, not the mock, ends it: what came may look complete.
    requests_mock.get(backup_url(BACKUP), text=slow(0.3))
    with pytest.raises(errors.TransportError) as info:
        send(place, budget=0.05)
    assert "the backup's time budget ran out" in str(info.value)
    assert info.value.may_have_reached_server


def test_an_answer_past_the_read_timeout_is_no_answer(place, requests_mock):
    requests_mock.get(backup_url(BACKUP), text=slow(0.3))
    with pytest.raises(errors.TransportError) as info:
        transport.send(place, 'GET', 'backups/' + BACKUP, 0.05, 0.05)
    assert str(info.value) == ('no complete answer within 0.05 s (the read '
                               'timeout bounds the whole answer)')
    assert info.value.may_have_reached_server


@pytest.mark.parametrize('headers, request_id', [
    ({'x-openstack-request-id': 'req-os', 'x-request-id': 'req-other'},
     'req-os'),
    ({'X-Request-Id': 'req-plain'}, 'req-plain'),
    ({}, None),
    ({'x-openstack-request-id': 'r' * 500}, 'r' * 100 + '... (500 '
     'characters)'),
])
def test_the_request_id_is_the_first_known_header_capped(
        place, requests_mock, headers, request_id):
    requests_mock.get(backup_url(BACKUP), status_code=200, headers=headers)
    assert send(place).request_id == request_id


@pytest.mark.parametrize('status, cap', [(200, 'MAX_BODY'),
                                         (202, 'MAX_BODY'),
                                         (404, 'MAX_ERROR_BODY'),
                                         (503, 'MAX_ERROR_BODY'),
                                         (302, 'MAX_ERROR_BODY')])
def test_a_body_is_read_up_to_the_cap_of_its_kind(
        place, requests_mock, monkeypatch, status, cap):
    monkeypatch.setattr(transport, 'MAX_BODY', 1000)
    monkeypatch.setattr(transport, 'MAX_ERROR_BODY', 100)
    limit = getattr(transport, cap)
    requests_mock.get(backup_url(BACKUP), status_code=status,
                      content=b'x' * (limit + 1))
    answer = send(place)
    assert answer.truncated
    assert answer.body == b'x' * limit
    requests_mock.get(backup_url(BACKUP), status_code=status,
                      content=b'x' * limit)
    answer = send(place)
    assert not answer.truncated and answer.body == b'x' * limit


def test_the_caps_are_the_documented_sizes():
    assert transport.MAX_BODY == 32 * 1024 * 1024
    assert transport.MAX_ERROR_BODY == 64 * 1024


def test_a_redirect_is_an_answer_not_followed(place, requests_mock):
    requests_mock.delete(backup_url(BACKUP), status_code=307,
                         headers={'Location': 'https://evil.test/x'})
    evil = requests_mock.delete('https://evil.test/x', status_code=202)
    answer = send(place, 'DELETE')
    assert answer.status == 307
    assert answer.headers['location'] == 'https://evil.test/x'
    assert not evil.called


def test_an_error_status_is_an_answer_not_an_exception(place, requests_mock):
    requests_mock.get(backup_url(BACKUP), status_code=500, text='boom')
    answer = send(place)
    assert (answer.status, answer.body) == (500, b'boom')


def test_the_debug_log_escapes_and_caps_and_shows_no_headers(
        place, requests_mock, caplog):
    requests_mock.get(backup_url(BACKUP), status_code=200,
                      content=b'\x1b[2J' + b'y' * 5000,
                      headers={'x-openstack-request-id': 'req-\n1',
                               'X-Secret': 'hidden-header-value'})
    with caplog.at_level(logging.DEBUG, logger=transport.__name__):
        send(place)
    [line] = [r.getMessage() for r in caplog.records
              if r.name == transport.__name__]
    assert line.startswith('GET %s: HTTP 200 (request ID req-\\n1), 5004 '
                           'bytes: \\x1b[2J' % backup_url(BACKUP))
    assert line.count('y') < 1100
    assert 'hidden-header-value' not in line and '\x1b' not in line


def test_connection_failure_is_a_transport_error(client, cloud):
    cloud.get(backup_url(BACKUP), exc=requests.exceptions.ConnectionError(
        'connection refused'))
    with pytest.raises(errors.TransportError) as info:
        client.get(BACKUP)
    assert 'connection refused' in str(info.value)


# -- mount: the session's connections ----------------------------------------

def adapters(session):
    return {session.session.get_adapter(scheme)
            for scheme in ('https://', 'http://')}


def test_mount_gives_both_schemes_one_pool_of_at_least_the_workers():
    session = ksa_session.Session()
    old = adapters(session)
    transport.mount(session, 32)
    [mounted] = adapters(session)
    assert mounted not in old
    assert mounted._pool_maxsize == 32
    transport.mount(session, 1)  # never less than requests' default
    assert adapters(session) == {mounted}


def test_mount_again_keeps_a_pool_big_enough_and_grows_a_small_one():
    session = ksa_session.Session()
    transport.mount(session, 4)
    [first] = adapters(session)
    assert first._pool_maxsize == 10  # requests' default, at least
    transport.mount(session, 8)
    assert adapters(session) == {first}
    transport.mount(session, 50)
    [grown] = adapters(session)
    assert grown is not first and grown._pool_maxsize == 50
