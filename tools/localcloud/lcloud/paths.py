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

"""Where everything lives, and the fixed ports.

All state sits under one folder so that `rm -rf` of it is a full reset:
$VBS_LOCALCLOUD_DIR, or <repo>/.localcloud by default.
"""

import os
from pathlib import Path

TOOL_DIR = Path(__file__).resolve().parent.parent      # tools/localcloud
REPO_ROOT = TOOL_DIR.parent.parent                     # the project checkout

HOST = "127.0.0.1"

# Keystone and Cinder keep their usual ports: the catalog the plugin's tests
# read names them.  RabbitMQ gets non-default ports so that it never clashes
# with a system node (default epmd 4369, AMQP 5672, distribution 25672).
KEYSTONE_PORT = 5000
CINDER_API_PORT = 8776
EPMD_PORT = 4371
AMQP_PORT = 5673
RABBIT_DIST_PORT = 25673

REGION = "RegionOne"
SECOND_REGION = "RegionTwo"
CINDER_HOST = "localcloud"          # the `host` every cinder service reports
BACKEND = "file"                    # the one cinder-volume backend section
RABBIT_NODE = "vbslocalcloud@localhost"

KEYSTONE_URL = f"http://{HOST}:{KEYSTONE_PORT}/v3"
CINDER_V3_URL = f"http://{HOST}:{CINDER_API_PORT}/v3/$(project_id)s"


def state_dir():
    value = os.environ.get("VBS_LOCALCLOUD_DIR")
    return Path(value).resolve() if value else REPO_ROOT / ".localcloud"


class State:
    """Every path under the state folder, in one place."""

    def __init__(self, root=None):
        self.root = Path(root) if root else state_dir()
        self.venv = self.root / "venv"
        self.etc = self.root / "etc"
        self.log = self.root / "log"
        self.run = self.root / "run"
        self.data = self.root / "data"
        self.secrets = self.root / "secrets.json"
        self.clouds_yaml = self.root / "clouds.yaml"

    # venv
    def venv_bin(self, name):
        return self.venv / "bin" / name

    @property
    def python(self):
        return self.venv_bin("python")

    # service files
    def pidfile(self, service):
        return self.run / f"{service}.pid"

    def logfile(self, service):
        return self.log / f"{service}.log"

    @property
    def api_server_file(self):
        """Which server runs Cinder's API: "gunicorn" or "eventlet"."""
        return self.run / "cinder-api.server"

    @property
    def keystone_conf(self):
        return self.etc / "keystone.conf"

    @property
    def cinder_conf(self):
        return self.etc / "cinder.conf"

    @property
    def rabbit_dir(self):
        return self.data / "rabbitmq"

    @property
    def volumes_dir(self):
        return self.data / "volumes"

    @property
    def backups_dir(self):
        return self.data / "backups"

    def make_dirs(self):
        for path in (self.root, self.etc, self.log, self.run, self.data,
                     self.rabbit_dir, self.volumes_dir,
                     self.backups_dir, self.data / "keystone",
                     self.data / "cinder"):
            path.mkdir(parents=True, exist_ok=True)
