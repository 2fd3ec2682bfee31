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

"""Installing what the cloud needs: RabbitMQ from Debian, a venv from PyPI.

Both installs run side by side (they take about 15 s and 45 s); each only
when missing.  The venv counts as ready when its marker file holds the hash
of requirements.txt + constraints.txt, so editing either reinstalls.
"""

import hashlib
import os
import shutil
import subprocess
import sys

from . import paths
from .proc import log

RABBIT_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
REQUIREMENTS = paths.TOOL_DIR / "requirements.txt"
CONSTRAINTS = paths.TOOL_DIR / "constraints.txt"


def rabbit_installed():
    return os.path.exists(RABBIT_SERVER) and shutil.which("epmd") is not None


def _venv_marker(state):
    return state.venv / ".localcloud-installed"


def _wanted_hash():
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, CONSTRAINTS):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def venv_ready(state):
    marker = _venv_marker(state)
    return (state.python.exists() and marker.exists()
            and marker.read_text().strip() == _wanted_hash())


def _start_apt(state):
    log("installing rabbitmq-server with apt-get (log: "
        f"{state.logfile('install-apt')})")
    script = ("apt-get update -q && apt-get install -y -q "
              "--no-install-recommends rabbitmq-server")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return _spawn(state, "install-apt", ["bash", "-c", script], env)


def _start_pip(state):
    log(f"installing the venv {state.venv} with pip (log: "
        f"{state.logfile('install-pip')})")
    pip = state.venv_bin("pip")
    script = " && ".join([
        ("true" if state.python.exists()
         else f"{sys.executable} -m venv {state.venv}"),
        f"{pip} install --disable-pip-version-check -q "
        f"-r {REQUIREMENTS} -c {CONSTRAINTS}",
    ])
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))}
    return _spawn(state, "install-pip", ["bash", "-c", script], env)


def _spawn(state, name, argv, env):
    logfile = open(state.logfile(name), "ab")
    child = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                             stdout=logfile, stderr=subprocess.STDOUT)
    logfile.close()
    return name, child


def ensure_installed(state):
    """Install RabbitMQ and the venv if they are missing; True if it did."""
    jobs = []
    if not rabbit_installed():
        if os.geteuid() != 0:
            raise RuntimeError(
                "rabbitmq-server is missing and we are not root")
        jobs.append(_start_apt(state))
    if not venv_ready(state):
        jobs.append(_start_pip(state))
    for name, child in jobs:
        if child.wait() != 0:
            raise RuntimeError(f"{name} failed; see {state.logfile(name)}")
        if name == "install-pip":
            _venv_marker(state).write_text(_wanted_hash() + "\n")
    return bool(jobs)
