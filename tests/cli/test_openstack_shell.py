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

"""The installed `openstack` executable, end to end, against FakeCloud.

These prove the entry points are wired: the plugin loads, the command is
listed and reads well, settings reach it, and exit codes are right.
"""

import os
import subprocess
import sys

import pytest

from tests.cli.fake_cloud import PASSWORD
from tests.cli.fake_cloud import PROJECT_ID

OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')


def openstack(cloud, *argv, env=None, input=None):
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith('OS_')}
    environment['OS_CLIENT_CONFIG_FILE'] = cloud.config_file
    environment.update(env or {})
    return subprocess.run([OPENSTACK, '--os-cloud', 'fake', *argv],
                          capture_output=True, text=True, env=environment,
                          timeout=120, input=input)


def test_help_reads_well(cloud):
    result = openstack(cloud, 'help', 'vbs', 'backup', 'delete')
    assert result.returncode == 0, result.stderr
    for text in ('usage: openstack vbs backup delete', '<backup>',
                 '--force', '--wait', '--timeout'):
        assert text in result.stdout


def test_command_is_listed_in_its_group(cloud):
    result = openstack(cloud, 'command', 'list', '--group', 'openstack.vbs')
    assert result.returncode == 0, result.stderr
    assert 'openstack.vbs.v3' in result.stdout
    assert 'vbs backup delete' in result.stdout


def test_delete_by_id_and_name_through_the_catalog(cloud):
    by_id = cloud.add_backup('first')
    by_name = cloud.add_backup('second')
    keep = cloud.add_backup('third')
    result = openstack(cloud, 'vbs', 'backup', 'delete', by_id, 'second')
    assert result.returncode == 0, result.stderr
    assert result.stdout == '' and result.stderr == ''
    assert list(cloud.backups) == [keep]
    deletes = [r[1] for r in cloud.vbs_requests() if r[0] == 'DELETE']
    # The catalog said .../vbs/v2/: normalised to v3 and the project.
    assert sorted(deletes) == sorted([
        '/vbs/v3/%s/backups/%s' % (PROJECT_ID, by_id),
        '/vbs/v3/%s/backups/%s' % (PROJECT_ID, by_name)])


def test_partial_failure_exits_1_with_one_line_per_failure(cloud):
    present = cloud.add_backup('present')
    missing = '0d6f4c59-5d0c-4a39-a1a4-000000000000'
    result = openstack(cloud, 'vbs', 'backup', 'delete', missing, present)
    assert result.returncode == 1
    assert not cloud.backups
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == '1 of 2 backups failed to delete.'
    assert lines[0].startswith(
        "Failed to delete backup '%s': Backup %s could not be found. "
        "(HTTP 404, request ID req-" % (missing, missing))
    assert 'Traceback' not in result.stderr


def test_debug_shows_the_exchange_but_no_secret(cloud):
    backup = cloud.add_backup('debugged')
    result = openstack(cloud, '--debug', 'vbs', 'backup', 'delete', backup)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert 'DELETE' in output and backup in output
    assert cloud.tokens_issued
    for token in cloud.tokens_issued:
        assert token not in output
    assert PASSWORD not in output


def test_api_version_2_uses_the_v2_api(cloud):
    backup = cloud.add_backup('old-api')
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                       env={'OS_VBS_API_VERSION': '2'})
    assert result.returncode == 0, result.stderr
    assert ('DELETE', '/vbs/v2/%s/backups/%s' % (PROJECT_ID, backup)) in [
        r[:2] for r in cloud.vbs_requests()]


def test_coexists_with_python_otcextensions(cloud):
    # otcextensions reads the same vbs_api_version (default "2") and adds
    # "vbs policy" commands: both plugins' commands must stay available.
    for env in ({}, {'OS_VBS_API_VERSION': '2'}):
        result = openstack(cloud, 'command', 'list', env=env)
        assert result.returncode == 0, result.stderr
        assert 'vbs backup delete' in result.stdout
        assert 'vbs policy list' in result.stdout
        assert 'WARNING' not in result.stderr


MISSING = '0d6f4c59-5d0c-4a39-a1a4-000000000000'


@pytest.mark.parametrize('argv, stdin, status, sends', [
    # 0: every backup named got a success result, or none was named.
    (['delete', '{present}'], None, 0, True),
    (['delete', '--ignore-missing', MISSING], None, 0, True),
    (['delete', '-'], '', 0, False),
    # 1: a backup failed, or the command failed before any backup.
    (['delete', MISSING, '{present}'], None, 1, True),
    (['list', '--volume', 'no-such-volume'], None, 1, True),
    # 2: usage errors; nothing is sent.
    (['delete', ''], None, 2, False),
    (['delete', '--parallel', '1.5', '{present}'], None, 2, False),
    (['list', '--status', 'bogus'], None, 2, False),
    (['list', '--name', ''], None, 2, False),
    (['prune', '--keep-last', '0'], None, 2, False),
])
def test_exit_statuses(cloud, argv, stdin, status, sends):
    present = cloud.add_backup('present')
    argv = [a.format(present=present) for a in argv]
    result = openstack(cloud, 'vbs', 'backup', *argv, input=stdin)
    assert result.returncode == status, result.stderr
    assert bool(cloud.vbs_requests()) == sends
    if status == 2:
        assert result.stderr.splitlines()[-1].startswith(
            'openstack vbs backup %s: error: ' % argv[0])
    if argv == ['delete', '-']:
        assert result.stderr == 'no backups named on standard input\n'
    assert 'Traceback' not in result.stderr
