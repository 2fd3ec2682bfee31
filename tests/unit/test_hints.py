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

"""What a failed row says to do: it follows from what is known (the HTTP
status, the VBS error code, the backup's status, whether a cut-off attempt
may have acted), never from a guess.
"""

import json

import pytest
import requests

from tests.unit.conftest import backup_url
from tests.unit.conftest import C
from tests.unit.conftest import NOT_FOUND
from tests.unit.test_command import run
from vbsclient.osc import backup

FORCE_HINT = '--force deletes a backup in any status'
MAYBE_DELETED = 'it may already be deleted'
SERVICE_404 = {'itemNotFound': {
    'message': 'Service cinder-backup could not be found.', 'code': 404}}
STATUS_REFUSAL = {'badRequest': {
    'message': 'Backup status must be available or error', 'code': 400}}
IMAGE_REFUSAL = {'error': {
    'message': 'The backup has been used to create an image and cannot be '
               'deleted.', 'code': 'VolumeBackup.0113'}}


def row_of(client, argv):
    """Delete C with these options: (exit status or error, C's row)."""
    status, out = run(backup.DeleteBackup, client,
                      ['-f', 'json', '--retries', '0'] + argv + [C])
    [row] = json.loads(out)
    return status, row


def record(status):
    return {'json': {'backup': {'id': C, 'name': 'b', 'status': status}}}


@pytest.mark.parametrize('refusal, status, expected, not_expected', [
    # The VBS code says why: --force cannot help an image's backup.
    (IMAGE_REFUSAL, 'available', 'delete the image first', FORCE_HINT),
    (IMAGE_REFUSAL, 'creating', 'not even by force', FORCE_HINT),
    # Refused for its status, and the status is known: --force fits.
    (STATUS_REFUSAL, 'creating', 'its status is creating: ' + FORCE_HINT,
     None),
    (STATUS_REFUSAL, 'error_deleting', 'its status is error_deleting',
     None),
    # A deletable status is not why: --force would be a guess.
    (STATUS_REFUSAL, 'available', "check the backup's status", FORCE_HINT),
])
def test_a_refusal_hints_by_code_and_status(client, cloud, refusal, status,
                                            expected, not_expected):
    cloud.delete(backup_url(C), status_code=400, json=refusal)
    cloud.get(backup_url(C), **record(status))
    exit_status, row = row_of(client, [])
    assert row['Result'] == 'failed'
    assert expected in row['Reason']
    assert not_expected is None or not_expected not in row['Reason']
    assert exit_status is not None  # a failure: CommandError, exit 1


def test_a_refusal_of_unknown_status_gets_no_force_hint(client, cloud):
    cloud.delete(backup_url(C), status_code=400, json=STATUS_REFUSAL)
    cloud.get(backup_url(C), status_code=500, json={})
    _, row = row_of(client, [])
    assert FORCE_HINT not in row['Reason']
    assert 'Backup status must be available or error' in row['Reason']


def test_a_forced_refusal_points_to_the_operators(client, cloud):
    cloud.post(backup_url(C) + '/action', status_code=400,
               json=STATUS_REFUSAL)
    cloud.get(backup_url(C), **record('creating'))
    _, row = row_of(client, ['--force'])
    assert '--force deletes' not in row['Reason']
    assert 'even forced' in row['Reason']


@pytest.mark.parametrize('argv', [[], ['--ignore-missing']])
def test_cinder_backup_service_down_is_no_missing_backup(client, cloud,
                                                         argv):
    cloud.delete(backup_url(C), status_code=404, json=SERVICE_404)
    cloud.get(backup_url(C), **record('available'))
    _, row = row_of(client, argv)
    assert row['Result'] == 'failed'
    assert 'the backup service is not running' in row['Reason']
    assert MAYBE_DELETED not in row['Reason']


def test_a_404_on_a_backup_that_is_there_says_so(client, cloud):
    cloud.delete(backup_url(C), status_code=404, json=NOT_FOUND)
    cloud.get(backup_url(C), **record('available'))
    _, row = row_of(client, ['--ignore-missing'])
    assert row['Result'] == 'failed'
    assert 'yet the backup is there (status available)' in row['Reason']
    assert MAYBE_DELETED not in row['Reason']


def test_a_plain_404_may_be_an_earlier_delete(client, cloud):
    cloud.delete(backup_url(C), status_code=404, json=NOT_FOUND)
    _, row = row_of(client, [])
    assert row['Result'] == 'failed' and MAYBE_DELETED in row['Reason']


def test_already_missing_is_a_success_without_a_failure_hint(client, cloud):
    cloud.delete(backup_url(C), status_code=404, json=NOT_FOUND)
    cloud.get(backup_url(C), status_code=404, json=NOT_FOUND)
    status, row = row_of(client, ['--ignore-missing'])
    assert status == 0
    assert row['Result'] == 'already-missing'
    assert row['Reason'] == 'Backup could not be found. (HTTP 404)'


def test_error_deleting_while_waiting_hints_force(client, cloud):
    cloud.delete(backup_url(C), status_code=202)
    cloud.get(backup_url(C), **record('error_deleting'))
    _, row = row_of(client, ['--wait'])
    assert row['Reason'].startswith('the backup ended in status '
                                    'error_deleting: its status is '
                                    'error_deleting: ' + FORCE_HINT)


def test_still_deleting_at_the_timeout_says_rerun(client, cloud):
    cloud.delete(backup_url(C), status_code=202)
    cloud.get(backup_url(C), **record('deleting'))
    _, row = row_of(client, ['--wait', '--timeout', '0.3'])
    assert row['Reason'].startswith('still deleting after 0.3 seconds '
                                    '(timeout): the server is still '
                                    'deleting it: rerun later with --wait')
    assert "'openstack vbs backup show %s'" % C in row['Reason']


def test_a_cut_off_delete_may_have_acted(client, cloud):
    cloud.delete(backup_url(C), [
        {'exc': requests.exceptions.ReadTimeout('slow')},
        {'status_code': 503, 'json': {}}])
    cloud.get(backup_url(C), status_code=500, json={})
    _, row = row_of(client, ['--retries', '1'])
    assert row['Result'] == 'failed'
    assert 'may have deleted it all the same' in row['Reason']
    assert 'a rerun is safe' in row['Reason']


def test_a_read_timeout_hints_read_timeout(client, cloud):
    cloud.delete(backup_url(C), exc=requests.exceptions.ReadTimeout('slow'))
    cloud.get(backup_url(C), exc=requests.exceptions.ReadTimeout('slow'))
    _, row = row_of(client, [])
    assert row['Result'] == 'failed'
    assert 'may have deleted it all the same' in row['Reason']


def test_no_connection_hints_network_and_proxy(client, cloud):
    cloud.delete(backup_url(C),
                 exc=requests.exceptions.ConnectTimeout('no route'))
    _, row = row_of(client, [])
    assert 'HTTPS_PROXY' in row['Reason']
    assert '--connect-timeout' in row['Reason']


def test_a_rights_code_says_permission(client, cloud):
    cloud.delete(backup_url(C), status_code=403, json={'error': {
        'message': 'no', 'code': 'VolumeBackup.0044'}})
    _, row = row_of(client, [])
    assert row['Reason'] == ('no (HTTP 403, code VolumeBackup.0044): '
                             'permission denied: ask an administrator')
