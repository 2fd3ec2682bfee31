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

"""Cinder: database, then api (:8776), scheduler, volume, backup.

The API runs under one of two servers, chosen at `up` or swapped in place
(`cloud cinder-api eventlet|gunicorn`):

* gunicorn (the default): one gthread worker with 4 threads, serving
  cinder.wsgi.api through venv_side/cinder_wsgi.py;
* eventlet: Cinder's own `cinder-api` console script, as upstream ran it
  for years (oslo.service's launcher forks osapi_volume_workers = 1
  worker, whose green threads serve every request in one OS thread).
  It reads the listen address and port from cinder.conf.
"""

import datetime
import json
import sqlite3
import subprocess

from . import keystone
from . import paths
from . import proc
from . import rest

API = "cinder-api"
API_SERVERS = ("gunicorn", "eventlet")
DEFAULT_API_SERVER = "gunicorn"
VENV_SIDE = paths.TOOL_DIR / "venv_side"

# The host each daemon reports in `openstack volume service list`.
REPORTED_HOST = {
    "cinder-scheduler": paths.CINDER_HOST,
    "cinder-volume": f"{paths.CINDER_HOST}@{paths.BACKEND}",
    "cinder-backup": paths.CINDER_HOST,
}


def _env(state):
    # venv_side holds our WSGI entry module and the file volume driver.
    return proc.child_env(state, {
        "PYTHONPATH": str(VENV_SIDE),
        "VBS_LOCALCLOUD_CINDER_CONF": str(state.cinder_conf),
    })


def setup_once(state):
    marker = state.data / "cinder" / ".db-synced"
    if marker.exists():
        return
    proc.log("cinder: db sync")
    proc.run([state.venv_bin("cinder-manage"), "--config-file",
              state.cinder_conf, "db", "sync"],
             env=_env(state), logname="cinder-manage", state=state)
    # Write-ahead logging: readers no longer block the writer, so seeding
    # while cinder-backup deletes hundreds of rows does not meet "database
    # is locked" (a setting of the file, kept from now on).
    with sqlite3.connect(state.data / "cinder" / "cinder.db") as db:
        db.execute("PRAGMA journal_mode=WAL")
    marker.touch()


def start(state, session, api_server=None):
    """Start whatever is not running and wait until all of it works.

    api_server: "gunicorn" or "eventlet" swaps a running API of the other
    kind; None keeps whatever runs (gunicorn when nothing does).

    Order matters: the scheduler only learns a backend's capabilities when
    it asks for them at its own start, or when cinder-volume publishes them
    (at its start, then once a minute).  Started together, each can miss
    the other and `get_pools` stays empty for a minute.  So cinder-volume
    goes first, and the scheduler starts once cinder-volume is serving.
    """
    if api_server and running_api_server(state) not in (None, api_server):
        _stop_api(state)
    first = [API, "cinder-volume", "cinder-backup"]
    started = _start_missing(state, first, api_server)
    _wait_api(state)
    _enable_disabled(state, session)
    _wait_daemon(state, session, "cinder-volume", started)
    started.update(_start_missing(state, ["cinder-scheduler"]))
    for name in ("cinder-scheduler", "cinder-backup"):
        _wait_daemon(state, session, name, started)
    proc.wait_for(lambda: session.cinder("GET", "/scheduler-stats/get_pools")
                  ["pools"], "the scheduler to know the file backend",
                  timeout=120, pid_of=(state, "cinder-scheduler"))


def _start_missing(state, names, api_server=None):
    """Start the named services that are not running; {name: start time}."""
    started = {}
    for name in names:
        if proc.running_pid(state, name):
            continue
        if name == API:
            proc.ensure_ports_free(name, paths.CINDER_API_PORT)
            server = api_server or DEFAULT_API_SERVER
            argv = _api_argv(state, server)
            # Recorded before the start: `status` and the next `up` read it.
            state.api_server_file.write_text(server + "\n")
        else:
            argv = [state.venv_bin(name), "--config-file", state.cinder_conf]
        started[name] = _utcnow()
        proc.start(state, name, argv, _env(state))
    return started


def _api_argv(state, server):
    if server == "eventlet":
        # `python -m cinder.cmd.api` would do nothing: the module has no
        # __main__ block, only the console script calls its main().
        return [state.venv_bin("cinder-api"), "--config-file",
                state.cinder_conf]
    return keystone.gunicorn_argv(state, paths.CINDER_API_PORT,
                                  "cinder_wsgi:application")


def running_api_server(state):
    """"gunicorn" or "eventlet" while the API runs, else None.

    An API started before the record existed can only be gunicorn.
    """
    if not proc.running_pid(state, API):
        return None
    try:
        server = state.api_server_file.read_text().strip()
    except OSError:
        return DEFAULT_API_SERVER
    return server if server in API_SERVERS else DEFAULT_API_SERVER


def switch_api(state, server):
    """Serve the API with `server`, touching no other service.

    Returns False when that server already runs.  Clients see refused
    connections for the few seconds in between.
    """
    if running_api_server(state) == server:
        return False
    _stop_api(state)
    _start_missing(state, [API], server)
    _wait_api(state)
    return True


def _stop_api(state):
    proc.stop_many(state, [API])
    forget_api_server(state)
    # The group is gone, but give the kernel a moment to free the port.
    proc.wait_for(lambda: not proc.port_open(paths.CINDER_API_PORT),
                  "the old cinder API to release its port", timeout=30)


def forget_api_server(state):
    state.api_server_file.unlink(missing_ok=True)


def _wait_api(state):
    proc.wait_for(lambda: rest.answers(f"http://{paths.HOST}:"
                                       f"{paths.CINDER_API_PORT}/"),
                  "cinder API", timeout=90, pid_of=(state, API))


def _wait_daemon(state, session, name, started):
    """Up, with a heartbeat newer than this run's start of it: a row left
    by a previous run still counts as up for service_down_time (60 s).
    Heartbeats begin once the service serves RPC.
    """
    proc.wait_for(lambda: _reported_up(session, name, started.get(name)),
                  f"{name} to report up", timeout=120, pid_of=(state, name))


def service_rows(session):
    return session.cinder("GET", "/os-services")["services"]


def _reported_up(session, binary, since):
    for row in service_rows(session):
        if row["binary"] == binary and row["host"] == REPORTED_HOST[binary]:
            if row["state"] != "up":
                return False
            if since is None:
                return True
            beat = row.get("updated_at")
            return bool(beat) and _parse_time(beat) >= since
    return False


def _enable_disabled(state, session):
    """A disabled cinder-backup makes every DELETE answer 404 (see
    ../shared/reference/LOCAL-CLOUD.md, beside the project): bring back
    any service a test left disabled.  Done in the database: cinder 29's
    enable API does not change anything.
    """
    disabled = [row["binary"] for row in service_rows(session)
                if row["status"] != "enabled"]
    if disabled:
        proc.log(f"re-enabling {', '.join(disabled)}")
        db_tool(state, "enable-services")


def db_tool(state, *args):
    """Run venv_side/db_tool.py (cinder.objects, in the venv); its JSON."""
    done = subprocess.run(
        [str(state.python), str(VENV_SIDE / "db_tool.py"),
         str(state.cinder_conf), *args],
        env=_env(state), stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"db_tool {args[0]} failed (exit {done.returncode})")
    return json.loads(done.stdout)


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _parse_time(text):
    return datetime.datetime.fromisoformat(text.rstrip("Z").split("+")[0])
