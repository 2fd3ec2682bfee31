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

"""openstack vbs backup delete against real Keystone and real Cinder."""

import re

import pytest

from tests.functional.conftest import cloud_tool

MISSING = '0d6f4c59-5d0c-4a39-a1a4-5f0000000000'


def test_delete_by_id_with_wait_returns_when_gone(openstack, server, rows):
    [backup] = rows(1)
    result = openstack('vbs', 'backup', 'delete', '--wait', backup)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ('', '')
    # --wait returned only once the backup was gone: no waiting here.
    assert server.backup(backup) is None


def test_delete_by_name(openstack, server, rows):
    [backup] = rows(1)
    name = server.backup(backup)['name']
    result = openstack('vbs', 'backup', 'delete', '--wait', name)
    assert result.returncode == 0, result.stderr
    assert server.backup(backup) is None


def test_delete_without_wait_is_accepted_then_completes(openstack, server,
                                                        rows):
    [backup] = rows(1)
    result = openstack('vbs', 'backup', 'delete', backup)
    assert result.returncode == 0, result.stderr
    server.wait_gone(backup)


def test_a_missing_id_fails_with_the_server_message_and_request_id(
        openstack):
    result = openstack('vbs', 'backup', 'delete', MISSING)
    assert result.returncode == 1
    first, last = result.stderr.strip().splitlines()
    assert first.startswith(
        "Failed to delete backup '%s': Backup %s could not be found. "
        "(HTTP 404, request ID req-" % (MISSING, MISSING))
    assert last == '1 of 1 backups failed to delete.'


# A backup in "deleting" is no failure (a rerun converges): see
# test_runbooks.py::test_a_rerun_over_backups_being_deleted_converges.
@pytest.mark.parametrize('status', ['creating', 'error_deleting'])
def test_a_busy_backup_is_refused_and_left_alone(openstack, server, rows,
                                                 status):
    [backup] = rows(1, status=status)
    result = openstack('vbs', 'backup', 'delete', backup)
    assert result.returncode == 1
    assert 'Backup status must be available or error (HTTP 400' in \
        result.stderr
    # What to do follows from the status Cinder shows, read back.
    assert ('its status is %s: --force deletes a backup in any status'
            % status) in result.stderr
    assert server.backup(backup)['status'] == status


def test_force_deletes_a_stuck_backup(openstack, server, rows):
    [backup] = rows(1, status='creating')
    result = openstack('vbs', 'backup', 'delete', '--force', '--wait', backup)
    assert result.returncode == 0, result.stderr
    assert server.backup(backup) is None


def test_a_full_backup_with_a_dependent_incremental_is_refused(
        openstack, server, volume):
    full = cloud_tool('seed-backup', '--volume', volume['id'],
                      '--name', 'full-' + volume['id'][:8])['id']
    incremental = cloud_tool('seed-backup', '--volume', volume['id'],
                             '--incremental')['id']
    result = openstack('vbs', 'backup', 'delete', full)
    assert result.returncode == 1
    assert 'Incremental backups exist for this backup.' in result.stderr
    assert server.backup(full)['status'] == 'available'
    # Newest first, the chain deletes cleanly.
    result = openstack('vbs', 'backup', 'delete', '--wait', incremental)
    assert result.returncode == 0, result.stderr
    result = openstack('vbs', 'backup', 'delete', '--wait', full)
    assert result.returncode == 0, result.stderr
    assert server.backup(full) is None and server.backup(incremental) is None


def test_one_missing_of_three_fails_alone(openstack, server, rows):
    first, second = rows(2)
    result = openstack('vbs', 'backup', 'delete', first, MISSING, second)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == '1 of 3 backups failed to delete.'
    assert len(lines) == 2 and MISSING in lines[0]
    server.wait_gone(first)
    server.wait_gone(second)


def test_an_argument_reaching_for_another_resource_deletes_nothing(
        openstack, server, rows, volume):
    bystanders = rows(2)
    crafted = ['../volumes/' + volume['id'],
               bystanders[0] + '/../../volumes/' + volume['id'],
               '%2e%2e/volumes/' + volume['id'],
               '..']
    result = openstack('vbs', 'backup', 'delete', *crafted)
    assert result.returncode == 1
    assert ('%d of %d backups failed to delete.' % (len(crafted),
                                                    len(crafted))
            in result.stderr)
    assert server.volume(volume['id'])['status'] == 'available'
    for backup in bystanders:
        assert server.backup(backup)['status'] == 'available'


def test_a_name_shared_by_two_backups_is_refused(openstack, server, rows):
    first, second = rows(2)
    name = 'twin-' + first[:8]
    server.rename(first, name)
    server.rename(second, name)
    result = openstack('vbs', 'backup', 'delete', name)
    assert result.returncode == 1
    assert first in result.stderr and second in result.stderr
    assert server.backup(first)['status'] == 'available'
    assert server.backup(second)['status'] == 'available'


def test_debug_output_holds_no_token_and_no_password(openstack, server,
                                                     rows):
    [backup] = rows(1)
    result = openstack('--debug', 'vbs', 'backup', 'delete', backup)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert 'DELETE' in output and backup in output  # the exchange is there
    assert server.password not in output
    token = server.session.get_token()
    assert token not in output
    # No Fernet token at all, not even the one the command got.
    assert not re.search(r'gAAAAA[\w-]{20,}', output)


@pytest.mark.parametrize('options', [
    (),  # RegionOne "vbs": http://127.0.0.1:8776/v2/ (another version)
    ('--os-vbs-region-name', 'RegionTwo'),  # .../v3/$(project_id)s
    ('--os-vbs-service-type', 'vbsv3'),  # a second service type
], ids=['v2-root-url', 'second-region', 'second-service-type'])
def test_catalog_shapes_resolve_to_the_v3_endpoint(openstack, server, rows,
                                                   options):
    [backup] = rows(1)
    result = openstack('--debug', *options, 'vbs', 'backup', 'delete',
                       '--wait', backup)
    assert result.returncode == 0, result.stderr
    # The plugin's own debug line for each exchange (never its headers).
    expected = 'DELETE %s/backups/%s: HTTP 202' % (server.base, backup)
    assert expected in result.stderr
    assert server.backup(backup) is None
