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

"""The `cloud` command line: up, down, status, env, cinder-api and the
seeding helpers.

Machine-readable results go to stdout (JSON for the seed-* helpers);
progress and errors go to stderr.
"""

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import sys
import time

from . import catalog
from . import cinder
from . import configs
from . import install
from . import keystone
from . import paths
from . import proc
from . import rabbit
from . import rest
from . import seed

# (service, port shown by `status`); `down` stops them in two waves.
SERVICES = [
    (rabbit.EPMD, paths.EPMD_PORT),
    (rabbit.NAME, paths.AMQP_PORT),
    (keystone.NAME, paths.KEYSTONE_PORT),
    (cinder.API, paths.CINDER_API_PORT),
    ("cinder-scheduler", None),
    ("cinder-volume", None),
    ("cinder-backup", None),
]


@contextlib.contextmanager
def exclusive(state):
    """One up/down at a time per state folder (tests may race to start it)."""
    state.run.mkdir(parents=True, exist_ok=True)
    with open(state.run / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# ------------------------------------------------------------------ up


def cmd_up(state, args):
    began = time.monotonic()

    def done(what):
        proc.log(f"{what} ({time.monotonic() - began:.1f} s)")

    with exclusive(state):
        state.make_dirs()
        if install.ensure_installed(state):
            done("installed")
        secret = load_secrets(state)
        configs.write_all(state, secret)
        rabbit_fresh = rabbit.start(state)  # boots while Keystone is set up
        keystone.setup_once(state, secret)
        keystone.start(state)
        keystone.wait(state)
        catalog.register(state, secret)
        done("keystone ready, catalog registered")
        cinder.setup_once(state)
        rabbit.wait(state, rabbit_fresh)
        done("rabbitmq ready")
        session = rest.Session("admin", secret["admin"])
        cinder.start(state, session, args.cinder_api)
        done(f"cinder ready (API: {cinder.running_api_server(state)})")
    print_summary(state, session, time.monotonic() - began)


def load_secrets(state):
    """The passwords; refuses to invent new ones for an existing cloud."""
    if (not state.secrets.exists()
            and (state.data / "keystone" / ".bootstrapped").exists()):
        raise RuntimeError(f"{state.secrets} is missing but Keystone was "
                           f"already set up: stop the cloud and remove "
                           f"{state.root} to start afresh")
    return configs.load_secrets(state)


def print_summary(state, session, seconds):
    print(f"""localcloud is up ({seconds:.1f} s)
  state folder : {state.root}
  clouds.yaml  : {state.clouds_yaml}
  clouds       : vbs-local (admin/admin), vbs-local-member \
(demo, role member, project admin)
  keystone     : {paths.KEYSTONE_URL}
  cinder       : {session.cinder_url} \
({cinder.running_api_server(state)} API server)
  rabbitmq     : amqp://127.0.0.1:{paths.AMQP_PORT} \
(epmd {paths.EPMD_PORT}, distribution {paths.RABBIT_DIST_PORT})
  openstack    : {state.venv_bin('openstack')}
  logs         : {state.log}
  use it with  : eval "$({paths.TOOL_DIR / 'cloud'} env)\"""")


# ---------------------------------------------------------- down, status


def cmd_down(state, args):
    with exclusive(state):
        # Cinder and Keystone first, side by side; the broker last, so the
        # Cinder services can close their connections cleanly.
        names = [name for name, _ in SERVICES]
        for group in (names[2:], names[:2]):
            stopped = proc.stop_many(state, group)
            for name in stopped:
                proc.log(f"stopped {name}")
        cinder.forget_api_server(state)
    print("localcloud is down")


def service_state(state, name, port):
    pid = proc.running_pid(state, name)
    if pid and port and not proc.port_open(port):
        return "starting", pid
    return ("running" if pid else "stopped"), pid


def cmd_status(state, args):
    all_up = True
    for name, port in SERVICES:
        word, pid = service_state(state, name, port)
        all_up = all_up and word == "running"
        line = f"{name:<17} {word:<8} pid {pid or '-':<8} port {port or '-'}"
        if name == cinder.API:
            line += f" server {cinder.running_api_server(state) or '-'}"
        print(line.rstrip())
    return 0 if all_up else 1


# ------------------------------------------------------------ cinder-api


def cmd_cinder_api(state, args):
    """Swap the server of Cinder's API in place; the rest keeps running."""
    with exclusive(state):
        # Without Keystone the new API could not check a single token:
        # this is for a cloud that is up, `up --cinder-api` for the rest.
        if not proc.running_pid(state, keystone.NAME):
            raise RuntimeError("the cloud is not up: use "
                               f"`cloud up --cinder-api {args.server}`")
        began = time.monotonic()
        if cinder.switch_api(state, args.server):
            proc.log(f"cinder API now served by {args.server} "
                     f"({time.monotonic() - began:.1f} s)")
    pid = proc.running_pid(state, cinder.API)
    print(f"cinder-api {cinder.running_api_server(state)} pid {pid}")


# ------------------------------------------------------------------- env


def cmd_env(state, args):
    exports = {
        "VBS_LOCALCLOUD_DIR": str(state.root),
        "VBS_LOCALCLOUD_VENV": str(state.venv),
        "OS_CLIENT_CONFIG_FILE": str(state.clouds_yaml),
        "OS_CLOUD": "vbs-local",
    }
    # Stray OS_* settings would be merged into the cloud's and confuse it.
    stray = sorted(k for k in os.environ
                   if k.startswith("OS_") and k not in exports)
    if stray:
        print("unset " + " ".join(stray))
    for key, value in exports.items():
        print(f"export {key}={shlex.quote(value)}")


# ------------------------------------------------------------- seeding


def cmd_seed_volume(state, args):
    emit(seed.seed_volume(state, args.name))


def cmd_seed_backup(state, args):
    emit(seed.seed_backup(state, args.volume, args.name, args.incremental))


def cmd_seed_rows(state, args):
    emit(seed.seed_rows(state, args.count, args.name_prefix, args.status,
                        args.volume_id, args.created_at, args.step,
                        args.project_id))


def emit(data):
    json.dump(data, sys.stdout)
    sys.stdout.write("\n")


# ---------------------------------------------------------------- main


def parser():
    top = argparse.ArgumentParser(
        prog="cloud", description="Keystone + Cinder on 127.0.0.1 for "
        "python-vbsclient's functional tests. State: $VBS_LOCALCLOUD_DIR "
        f"(default {paths.REPO_ROOT / '.localcloud'}).")
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="install if needed, start, wait until ready")
    p.add_argument("--cinder-api", choices=cinder.API_SERVERS,
                   help="server of Cinder's API; swaps a running one of the "
                   "other kind (default: keep what runs, else gunicorn)")
    p.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop every process of the cloud"
                   ).set_defaults(func=cmd_down)
    sub.add_parser("status", help="one line per service; exit 0 if all run"
                   ).set_defaults(func=cmd_status)
    sub.add_parser("env", help="shell export lines for the cloud"
                   ).set_defaults(func=cmd_env)

    p = sub.add_parser("cinder-api", help="swap the server of Cinder's API "
                       "in place (the rest keeps running), wait until it "
                       "answers")
    p.add_argument("server", choices=cinder.API_SERVERS)
    p.set_defaults(func=cmd_cinder_api)

    p = sub.add_parser("seed-volume", help="create a volume, wait for it")
    p.add_argument("--name")
    p.set_defaults(func=cmd_seed_volume)

    p = sub.add_parser("seed-backup", help="back a volume up, wait for it")
    p.add_argument("--volume", required=True, help="volume id")
    p.add_argument("--name")
    p.add_argument("--incremental", action="store_true")
    p.set_defaults(func=cmd_seed_backup)

    p = sub.add_parser("seed-rows", help="write backup rows into the DB")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--name-prefix", help="names are PREFIX-0001 ... "
                   "(default seed-<6 hex digits>)")
    p.add_argument("--status", default="available")
    p.add_argument("--volume-id", help="default: a new random UUID per call")
    p.add_argument("--created-at", metavar="TIME", help="the first row's "
                   "created_at, ISO 8601 (naive is UTC; default: now)")
    p.add_argument("--step", type=float, default=0, metavar="SECONDS",
                   help="with --created-at: each next row this much later "
                   "(negative: earlier)")
    p.add_argument("--project-id", help="the rows' project (default: the "
                   "admin project of the clouds vbs-local and "
                   "vbs-local-member)")
    p.set_defaults(func=cmd_seed_rows)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    state = paths.State()
    try:
        return args.func(state, args) or 0
    except (RuntimeError, rest.HttpError, OSError) as err:
        proc.log(f"error: {err}")
        return 1
    except KeyboardInterrupt:
        return 130
