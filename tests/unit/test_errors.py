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

"""Every error body style becomes one line with status, message, code, id."""

import pytest

from tests.unit.conftest import BACKUP
from tests.unit.conftest import backup_url
from vbsclient.api import errors


def delete_error(client, cloud, **answer):
    """The ApiError of a DELETE so answered (the cause, for a gateway's
    502 or 504, which may have been carried out: Unconfirmed).
    """
    cloud.delete(backup_url(BACKUP), **answer)
    with pytest.raises(errors.VbsError) as info:
        client.delete(BACKUP)
    error = info.value
    if isinstance(error, errors.Unconfirmed):
        error = error.cause
    assert isinstance(error, errors.ApiError)
    return error


@pytest.mark.parametrize('status, uncertain', [
    (500, False), (502, True), (503, False), (504, True)])
def test_a_gateways_answer_to_a_delete_is_unconfirmed(client, cloud, status,
                                                      uncertain):
    # Without a retry: a 502 or 504 says nothing of whether the service
    # behind the gateway acted, so whoever sent it must check.
    cloud.delete(backup_url(BACKUP), status_code=status, text='')
    with pytest.raises(errors.VbsError) as info:
        client.delete(BACKUP)
    assert isinstance(info.value, errors.Unconfirmed) is uncertain


def test_cinder_fault_wrapper(client, cloud):
    err = delete_error(
        client, cloud, status_code=404,
        json={'itemNotFound': {
            'message': 'Backup %s could not be found.' % BACKUP,
            'code': 404}},
        headers={'x-openstack-request-id': 'req-cinder-1'})
    assert err.status_code == 404
    assert err.message == 'Backup %s could not be found.' % BACKUP
    assert err.error_code is None  # the integer code repeats the status
    assert err.request_id == 'req-cinder-1'
    assert str(err).startswith(
        'Backup %s could not be found. (HTTP 404, request ID req-cinder-1): '
        'not found: ' % BACKUP)


def test_vbs_error_code_style(client, cloud):
    err = delete_error(client, cloud, status_code=400, json={'error': {
        'message': 'The backup has been used to create an image.',
        'code': 'VolumeBackup.0113'}},
        headers={'X-Compute-Request-Id': 'req-vbs-2'})
    assert err.error_code == 'VolumeBackup.0113'
    assert err.request_id == 'req-vbs-2'
    assert ('The backup has been used to create an image. (HTTP 400, code '
            'VolumeBackup.0113, request ID req-vbs-2)') in str(err)


def test_api_gateway_style(client, cloud):
    err = delete_error(client, cloud, status_code=429, json={
        'error_code': 'APIGW.0308', 'error_msg': 'The request is throttled.'},
        headers={'Retry-After': '3'})
    assert err.message == 'The request is throttled.'
    assert err.error_code == 'APIGW.0308'
    assert 'throttling' in str(err)


def test_spec_flat_style(client, cloud):
    err = delete_error(client, cloud, status_code=409,
                       json={'message': 'Backup is busy.', 'code': 409})
    assert err.message == 'Backup is busy.'
    assert 'wait and try again' in str(err)


def test_html_page_from_a_proxy(client, cloud):
    page = ('<html><head><title>502 Bad Gateway</title></head>\n<body>'
            '<center><h1>502 Bad Gateway</h1></center>\n<hr>nginx</body>'
            '</html>')
    err = delete_error(client, cloud, status_code=502, text=page,
                       headers={'Content-Type': 'text/html'})
    assert err.message == '502 Bad Gateway'
    assert '<' not in str(err) and '\n' not in str(err)


def test_empty_body_falls_back_to_the_status_phrase(client, cloud):
    err = delete_error(client, cloud, status_code=503, text='')
    assert err.message == 'Service Unavailable'
    assert str(err) == ('Service Unavailable (HTTP 503): the service is '
                        'unavailable: try again later')


def test_text_that_is_not_json_becomes_one_short_line(client, cloud):
    err = delete_error(client, cloud, status_code=500,
                       text='Internal error\n\n' + 'x' * 1000)
    assert '\n' not in str(err)
    assert err.message.startswith('Internal error x')
    assert len(err.message) <= 300


def test_json_that_is_not_an_object(client, cloud):
    err = delete_error(client, cloud, status_code=500, json=['oops'])
    assert err.message == 'Internal Server Error'


@pytest.mark.parametrize('status, advice', [
    (400, "check the backup's status"),
    (401, 'check your credentials or token'),
    (403, 'permission denied'),
    (404, 'check the VBS endpoint'),  # a bare 404: not the API's own
    (405, 'check the VBS endpoint and API version'),
    (406, 'check the VBS endpoint and API version'),
    (407, 'proxy'),
    (408, 'timed out'),
    (409, 'busy or in a conflicting state'),
    (500, 'try again later'),
    (501, 'check the VBS endpoint and API version'),
    (502, 'try again later'),
    (503, 'try again later'),
    (504, 'did not answer in time'),
])
def test_each_status_of_the_spec_tells_what_to_do(client, cloud, status,
                                                  advice):
    err = delete_error(client, cloud, status_code=status, text='')
    assert advice in str(err)
    assert '(HTTP %d' % status in str(err)
