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

"""Functional tests: the real `openstack` executable against the local cloud.

The cloud (real Keystone and Cinder on 127.0.0.1) is started by
`tools/localcloud/cloud up`, which `tools/run-tests` runs first. Outcomes
are checked at the server with plain HTTP requests on a keystoneauth
session, independent of the plugin's own client.
"""

import json
import os
import pathlib
import shlex
import subprocess
import sys
import time
import uuid

from openstack import config as os_config
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
CLOUD_TOOL = REPO / 'tools' / 'localcloud' / 'cloud'
OPENSTACK = os.path.join(os.path.dirname(sys.executable), 'openstack')
CINDER = 'http://127.0.0.1:8776'


def cloud_tool(*args):
    """Run a tools/localcloud/cloud subcommand; return its JSON output."""
    done = subprocess.run([sys.executable, str(CLOUD_TOOL), *args],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError('cloud %s failed: %s' % (' '.join(args),
                                                    done.stderr.strip()))
    return json.loads(done.stdout)


@pytest.fixture(scope='session')
def cloud_env():
    status = subprocess.run([sys.executable, str(CLOUD_TOOL), 'status'],
                            capture_output=True, text=True)
    if status.returncode != 0:
        pytest.fail('The local cloud is not running (start it with '
                    '"tools/localcloud/cloud up"; tools/run-tests does):\n'
                    + status.stdout)
    exports = subprocess.run([sys.executable, str(CLOUD_TOOL), 'env'],
                             capture_output=True, text=True,
                             check=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    for line in exports.splitlines():
        if line.startswith('export '):
            key, _, value = line[len('export '):].partition('=')
            env[key] = shlex.split(value)[0]
    return env


class Server:
    """Read the cloud's real state, bypassing the plugin entirely."""

    def __init__(self, env):
        region = os_config.OpenStackConfig(
            config_files=[env['OS_CLIENT_CONFIG_FILE']]).get_one('vbs-local')
        self.password = region.config['auth']['password']
        self.session = region.get_session()
        self.project_id = self.session.get_project_id()
        self.base = '%s/v3/%s' % (CINDER, self.project_id)

    def _get(self, path):
        answer = self.session.get(self.base + path, raise_exc=False)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.json()

    def backup(self, backup_id):
        """The backup's record, or None when the server says 404."""
        body = self._get('/backups/' + backup_id)
        return body and body['backup']

    def volume(self, volume_id):
        body = self._get('/volumes/' + volume_id)
        return body and body['volume']

    def rename(self, backup_id, name):
        # Backup update needs microversion 3.9.
        self.session.put(
            self.base + '/backups/' + backup_id,
            json={'backup': {'name': name}},
            headers={'OpenStack-API-Version': 'volume 3.9'})

    def force_delete(self, backup_id):
        self.session.post(self.base + '/backups/%s/action' % backup_id,
                          json={'os-force_delete': {}}, raise_exc=False)

    def wait_gone(self, backup_id, timeout=60):
        deadline = time.monotonic() + timeout
        while self.backup(backup_id) is not None:
            if time.monotonic() > deadline:
                raise AssertionError('backup %s still exists: %s'
                                     % (backup_id, self.backup(backup_id)))
            time.sleep(0.5)


@pytest.fixture(scope='session')
def server(cloud_env):
    return Server(cloud_env)


@pytest.fixture(scope='session')
def volume(cloud_env):
    """One real volume for the real backups."""
    return cloud_tool('seed-volume', '--name', 'functional-' + _tag())


@pytest.fixture
def rows(cloud_env, server):
    """Make cheap backup rows: rows(count, status=...) -> list of ids.

    Whatever a test leaves behind is force-deleted afterwards, so that
    tests do not see each other's backups.
    """
    made = []

    def make(count=1, status='available', name=None, volume_id=None):
        args = ['seed-rows', '--count', str(count), '--status', status,
                '--name-prefix', name or 'row-' + _tag()]
        if volume_id:
            args += ['--volume-id', volume_id]
        ids = [row['id'] for row in cloud_tool(*args)]
        made.extend(ids)
        return ids

    yield make
    for backup_id in made:
        server.force_delete(backup_id)


@pytest.fixture
def openstack(cloud_env):
    """Run the installed openstack executable against the local cloud."""
    def run(*argv, cloud='vbs-local', stdin=None):
        return subprocess.run(
            [OPENSTACK, '--os-cloud', cloud, *argv], capture_output=True,
            text=True, env=cloud_env, timeout=600, input=stdin)
    return run


@pytest.fixture
def shell(cloud_env):
    """Run a shell pipeline of openstack commands, as a runbook would."""
    env = dict(cloud_env, OS_CLOUD='vbs-local',
               PATH=os.path.dirname(OPENSTACK) + os.pathsep
               + cloud_env.get('PATH', ''))

    def run(script):
        return subprocess.run(['bash', '-o', 'pipefail', '-c', script],
                              capture_output=True, text=True, env=env,
                              timeout=600)
    return run


def new_id():
    return str(uuid.uuid4())


def _tag():
    return uuid.uuid4().hex[:8]
