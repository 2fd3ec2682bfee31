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

"""Seeding helpers for tests and demos: real volumes and backups through the
API, cheap backup rows straight into the database, forced statuses.

Each returns plain data; the CLI prints it as JSON on stdout.
"""

import json
import secrets as pysecrets
import time
import uuid

from . import cinder
from . import configs
from . import paths
from . import proc
from . import rest


def admin_session(state):
    return rest.Session("admin", configs.load_secrets(state)["admin"])


def _wait_status(session, kind, item_id, wanted, timeout):
    """Poll /<kind>s/<id> until its status is `wanted`; fail on error
    states.
    """
    deadline = time.monotonic() + timeout
    while True:
        item = session.cinder("GET", f"/{kind}s/{item_id}")[kind]
        status = item["status"]
        if status == wanted:
            return item
        if status.startswith("error"):
            reason = item.get("fail_reason") or "see the cinder logs"
            raise RuntimeError(f"{kind} {item_id} went to {status}: {reason}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{kind} {item_id} still {status} after {timeout}s")
        time.sleep(0.5)


def _create(session, path, body):
    """POST a create to Cinder, again after a 500: with SQLite, the API's
    quota reservation can meet cinder-backup's write lock ("database is
    locked", a 500); the reservation is rolled back.
    """
    for attempt in range(5):
        try:
            return session.cinder("POST", path, body)
        except rest.HttpError as err:
            if err.status != 500 or attempt == 4:
                raise
            proc.log(f"create at {path} failed ({err.status}); "
                     f"trying again")
            time.sleep(1 + attempt)


def seed_volume(state, name=None):
    session = admin_session(state)
    name = name or f"seed-volume-{pysecrets.token_hex(3)}"
    volume = _create(session, "/volumes",
                     {"volume": {"name": name, "size": 1}})["volume"]
    proc.log(f"volume {volume['id']} ({name}) created; waiting for available")
    _wait_status(session, "volume", volume["id"], "available", timeout=120)
    return {"id": volume["id"], "name": name}


def seed_backup(state, volume_id, name=None, incremental=False):
    session = admin_session(state)
    name = name or f"seed-backup-{pysecrets.token_hex(3)}"
    body = {"backup": {"volume_id": volume_id, "name": name,
                       "incremental": bool(incremental)}}
    backup = _create(session, "/backups", body)["backup"]
    proc.log(f"backup {backup['id']} ({name}) requested; "
             f"waiting for available")
    _wait_status(session, "backup", backup["id"], "available", timeout=300)
    # The volume is `backing-up` until the backup is done; wait for it too so
    # an immediate next backup of it is accepted.
    _wait_status(session, "volume", volume_id, "available", timeout=60)
    return {"id": backup["id"], "name": name}


def _ids(state):
    path = state.root / "ids.json"
    if not path.exists():
        raise RuntimeError("no ids.json: run `cloud up` first")
    return json.loads(path.read_text())


def seed_rows(state, count, name_prefix=None, status="available",
              volume_id=None, created_at=None, step=0, project_id=None):
    ids = _ids(state)
    options = {
        "count": count,
        "name_prefix": name_prefix or f"seed-{pysecrets.token_hex(3)}",
        "status": status,
        # Rows need a volume id but no real volume: a fresh one per call
        # lets a test list exactly its own batch with --volume.
        "volume_id": volume_id or str(uuid.uuid4()),
        "size": 1,
        # Another project: a test that prunes a whole project makes its
        # own, and sees no other test's backups.
        "project_id": project_id or ids["admin_project_id"],
        "user_id": ids["admin_user_id"],
        "host": paths.CINDER_HOST,
        "created_at": created_at,
        "step": step,
    }
    proc.log(f"writing {count} backup rows named {options['name_prefix']}-N "
             f"(volume_id {options['volume_id']}, status {status})")
    return cinder.db_tool(state, "seed-rows", json.dumps(options))
