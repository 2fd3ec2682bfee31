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

"""A failure with no whole answer, as one TransportError line
(vbsclient.api.transport_errors): what failed, and whether the request
may have reached the server or could succeed if tried again.

Each failure is raised as requests raises it, below keystoneauth, as an
attempt meets it (vbsclient.api.transport.send).
"""

import ssl

from keystoneauth1 import adapter as ksa_adapter
from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import session as ksa_session
import pytest
import requests
import urllib3

from tests.unit.conftest import AUTH_URL
from tests.unit.conftest import BACKUP
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import make_session
from vbsclient.api import errors
from vbsclient.api import transport
from vbsclient.api import transport_errors

ROOT = BACKUPS_URL.rsplit('/backups', 1)[0]


def failure(requests_mock, exc, session=None):
    """The error an attempt raises when its request fails with exc."""
    requests_mock.get(backup_url(BACKUP), exc=exc)
    place = ksa_adapter.Adapter(session=session or ksa_session.Session(),
                                endpoint_override=ROOT)
    with pytest.raises(errors.VbsError) as info:
        transport.send(place, 'GET', 'backups/' + BACKUP, 3, 7)
    return info.value


def refused():
    return urllib3.exceptions.NewConnectionError(
        'HTTPSConnection(vbs.test)', '[Errno 111] Connection refused')


def untrusted():
    # As urllib3 wraps it: the innermost, ssl's own, says what failed.
    return urllib3.exceptions.MaxRetryError(
        None, '/backups', reason=urllib3.exceptions.SSLError(
            ssl.SSLCertVerificationError(
                1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify '
                'failed')))


@pytest.mark.parametrize('exc, message, reached, retriable', [
    (requests.exceptions.ReadTimeout('read timed out'),
     'read timeout: no answer within 7 s', True, True),
    (requests.exceptions.ConnectTimeout('timed out connecting'),
     'connect timeout: timed out connecting', False, True),
    (requests.exceptions.ConnectionError(refused()),
     'connection failed: HTTPSConnection(vbs.test): [Errno 111] Connection '
     'refused', False, True),
    (requests.exceptions.ProxyError(refused()),
     'connection failed to the proxy: HTTPSConnection', False, True),
    (requests.exceptions.ProxyError('407 Proxy Authentication Required'),
     'proxy failure: 407 Proxy Authentication Required', False, True),
    (requests.exceptions.SSLError(untrusted()),
     'TLS failure: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify '
     'failed', False, False),
    (requests.exceptions.InvalidURL('no host supplied'),
     'invalid URL: ', False, False),
    (requests.exceptions.ConnectionError('Connection reset by peer'),
     'ConnectFailure: ', True, True),
])
def test_each_failure_says_what_failed_and_if_it_may_have_acted(
        requests_mock, exc, message, reached, retriable):
    error = failure(requests_mock, exc)
    assert type(error) is errors.TransportError
    assert str(error).startswith(message)
    assert error.may_have_reached_server is reached
    assert error.retriable is retriable


def test_the_innermost_cause_is_named_and_capped(requests_mock):
    error = failure(requests_mock, requests.exceptions.ConnectionError(
        urllib3.exceptions.NewConnectionError('conn',
                                              'refused\n' + 'z' * 900)))
    assert '\n' not in str(error)
    assert str(error).startswith('connection failed: conn: refused z')
    assert str(error).endswith('characters)')
    assert len(str(error)) < 300


def test_a_missing_endpoint_is_a_configuration_error(requests_mock):
    error = failure(requests_mock, ksa_exceptions.EndpointNotFound(
        'no vbs endpoint in the catalog'))
    assert isinstance(error, errors.EndpointNotFound)
    assert 'no vbs endpoint' in str(error)


def test_a_refused_login_is_an_authentication_failure(requests_mock):
    requests_mock.post(AUTH_URL + '/auth/tokens', status_code=401,
                       headers={'x-openstack-request-id': 'req-auth'},
                       json={'error': {'code': 401, 'message': 'The request '
                                       'you have made requires\n'
                                       'authentication.'}})
    error = failure(requests_mock, None, session=make_session())
    assert isinstance(error, errors.AuthenticationFailed)
    assert error.status_code == 401
    assert error.request_id == 'req-auth'
    assert '\n' not in error.message


class Late:
    """A watchdog whose deadline passed."""

    expired = True
    read_timeout = 7

    def __init__(self, out_of_budget):
        self.out_of_budget = out_of_budget

    def elapsed(self):
        return 2.5


@pytest.mark.parametrize('out_of_budget, message', [
    (True, "no complete answer within 2.5 s: the backup's time budget ran "
     "out"),
    (False, 'no complete answer within 7 s (the read timeout bounds the '
     'whole answer)'),
])
def test_a_passed_deadline_wins_over_what_the_socket_said(out_of_budget,
                                                          message):
    # The watchdog shut the socket: its error is the deadline's doing.
    watchdog = Late(out_of_budget)
    for error in (
            transport_errors.too_late(watchdog),
            transport_errors.from_body(ConnectionResetError(), watchdog),
            transport_errors.from_request(
                ksa_exceptions.ConnectFailure('reset'), watchdog, 7)):
        assert str(error) == message
        assert error.may_have_reached_server and error.retriable


def test_a_body_that_breaks_off_was_received_by_the_server():
    class OnTime(Late):
        expired = False
    error = transport_errors.from_body(
        urllib3.exceptions.ProtocolError('Connection broken: IncompleteRead'),
        OnTime(False))
    assert str(error) == ('the answer broke off: Connection broken: '
                          'IncompleteRead')
    assert error.may_have_reached_server
