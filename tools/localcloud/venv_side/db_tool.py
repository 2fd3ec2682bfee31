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

"""Backup rows written straight into Cinder's database (runs in the cloud
venv).

Usage (the `cloud` script builds these command lines):
  db_tool.py CINDER_CONF seed-rows JSON_OPTIONS
  db_tool.py CINDER_CONF enable-services

Prints JSON on stdout; anything else goes to stderr.

Seeded rows look like finished backups of the posix driver that stored no
data (no container): a real DELETE walks the normal path (API -> RPC ->
cinder-backup -> driver, which has nothing to remove) and the row goes.
They carry the cinder-backup host, since Cinder routes the delete (and the
force-delete check, a blocking RPC call) to backup.host.
"""

import datetime
import json
import sys
import time
import warnings

# Eventlet and oslo deprecation chatter would only clutter the caller's stderr.
warnings.filterwarnings("ignore")

POSIX_DRIVER = "cinder.backup.drivers.posix.PosixBackupDriver"


def _load_cinder(conf_file):
    from cinder import objects
    from oslo_config import cfg
    objects.register_all()
    cfg.CONF([], project="cinder", default_config_files=[conf_file])
    from cinder import context
    return objects, context.get_admin_context()


def seed_rows(conf_file, options):
    objects, ctxt = _load_cinder(conf_file)
    from cinder.db import api as db_api
    from cinder import quota

    count = options["count"]
    width = max(4, len(str(count)))
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    # Dated rows: the first at created_at, each next one `step` seconds
    # later (a real backup is always dated now).
    first = options.get("created_at")
    if first:
        first = datetime.datetime.fromisoformat(first)
        if first.tzinfo is not None:
            first = first.astimezone(datetime.timezone.utc)
        first = first.replace(tzinfo=None)
    step = datetime.timedelta(seconds=options.get("step") or 0)
    created = []
    # One transaction for the whole batch: SQLite commits cost a sync each,
    # and this keeps 500 rows in the low seconds.
    with db_api.main_context_manager.writer.using(ctxt):
        for number in range(1, count + 1):
            dated = {"data_timestamp": now}
            if first:
                made = first + (number - 1) * step
                dated = {"created_at": made, "data_timestamp": made}
            backup = objects.Backup(
                context=ctxt,
                user_id=options["user_id"],
                project_id=options["project_id"],
                volume_id=options["volume_id"],
                host=options["host"],
                availability_zone="nova",
                display_name=f"{options['name_prefix']}-{number:0{width}d}",
                display_description="seeded by tools/localcloud",
                container=None,
                status=options["status"],
                service=POSIX_DRIVER,
                size=options["size"],
                object_count=0,
                num_dependent_backups=0,
                **dated,
            )
            backup.create()
            created.append({"id": backup.id, "name": backup.display_name})
    _count_in_quota(quota.QUOTAS, ctxt, options, count)
    return created


def _count_in_quota(quotas, ctxt, options, count):
    """Add the rows to the project's backup usage, as a real create does,
    so that deleting them does not drive the usage below zero.

    Retried while SQLite is locked by cinder-backup's own writes: the rows
    are already committed, and a seed must not fail half-done.
    """
    for attempt in range(20):
        try:
            reservations = quotas.reserve(
                ctxt, project_id=options["project_id"],
                backups=count, backup_gigabytes=count * options["size"])
            quotas.commit(ctxt, reservations,
                          project_id=options["project_id"])
            return
        except Exception as exc:  # sqlalchemy's or oslo.db's, by version
            if "locked" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.5)


def enable_services(conf_file):
    """Re-enable every disabled Cinder service.  The API cannot: in cinder
    29.0.0 `PUT /os-services/enable` answers "enabled" and changes nothing.
    """
    objects, ctxt = _load_cinder(conf_file)
    enabled = []
    for service in objects.ServiceList.get_all(ctxt):
        if service.disabled:
            service.disabled = False
            service.disabled_reason = None
            service.save()
            enabled.append({"binary": service.binary, "host": service.host})
    return enabled


def main(argv):
    conf_file, command = argv[1], argv[2]
    if command == "seed-rows":
        result = seed_rows(conf_file, json.loads(argv[3]))
    elif command == "enable-services":
        result = enable_services(conf_file)
    else:
        raise SystemExit(f"unknown command {command}")
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
