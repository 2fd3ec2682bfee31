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

"""Keystone: one-time database setup and bootstrap, then gunicorn on :5000."""

from . import paths
from . import proc
from . import rest

NAME = "keystone"
VENV_SIDE = paths.TOOL_DIR / "venv_side"


def _manage(state, *args, env=None):
    proc.run([state.venv_bin("keystone-manage"), "--config-file",
              state.keystone_conf, *args],
             env=proc.child_env(state, env), logname="keystone-manage",
             state=state)


def setup_once(state, secret):
    """db_sync, key repositories and bootstrap, on the first up only."""
    marker = state.data / "keystone" / ".bootstrapped"
    if marker.exists():
        return
    proc.log("keystone: db_sync, fernet/credential keys, bootstrap")
    keys = state.data / "keystone"
    for repo in ("fernet-keys", "credential-keys"):
        (keys / repo).mkdir(mode=0o700, exist_ok=True)
    _manage(state, "db_sync")
    owner = ["--keystone-user", "root", "--keystone-group", "root"]
    _manage(state, "fernet_setup", *owner)
    _manage(state, "credential_setup", *owner)
    # The password travels in the environment keystone-manage reads, never
    # on the command line: argv shows in `ps`, in logs and in error messages.
    _manage(state, "bootstrap",
            "--bootstrap-username", "admin",
            "--bootstrap-project-name", "admin",
            "--bootstrap-role-name", "admin",
            "--bootstrap-service-name", "keystone",
            "--bootstrap-region-id", paths.REGION,
            "--bootstrap-admin-url", paths.KEYSTONE_URL,
            "--bootstrap-internal-url", paths.KEYSTONE_URL,
            "--bootstrap-public-url", paths.KEYSTONE_URL,
            env={"OS_BOOTSTRAP_PASSWORD": secret["admin"]})
    marker.touch()


def start(state):
    """Start Keystone under gunicorn unless it already runs."""
    if proc.running_pid(state, NAME):
        return False
    proc.ensure_ports_free(NAME, paths.KEYSTONE_PORT)
    env = proc.child_env(state, {
        "OS_KEYSTONE_CONFIG_FILES": str(state.keystone_conf),
        "PYTHONPATH": str(VENV_SIDE),
    })
    proc.start(state, NAME, gunicorn_argv(state, paths.KEYSTONE_PORT,
                                          "keystone_wsgi:application"), env)
    return True


def gunicorn_argv(state, port, app):
    """One worker with a few threads: enough for tests, light on memory.
    --no-control-socket: recent gunicorn otherwise creates ~/.gunicorn.
    """
    return [state.venv_bin("gunicorn"), "--bind", f"{paths.HOST}:{port}",
            "--workers", "1", "--worker-class", "gthread", "--threads", "4",
            "--timeout", "120", "--no-control-socket",
            "--pythonpath", VENV_SIDE, app]


def wait(state):
    proc.wait_for(lambda: rest.answers(paths.KEYSTONE_URL), "keystone API",
                  timeout=60, pid_of=(state, NAME))
