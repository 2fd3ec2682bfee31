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

"""Requests per backup to delete a real incremental chain on the local
Cinder (issue 24), counted in cinder-api's own log.

Each side gets a chain of its own, seeded for real (1 full backup and
--chain incremental ones, default 50, each made by cinder-backup), and
deletes it in one go:

  plugin --wait   `openstack vbs backup delete --wait`, named oldest first
                  (the worst order: every parent before its incrementals)
  plugin          the same without --wait
  anchor          openstacksdk as a runbook uses it: newest first, for
                  each backup delete_backup() then wait_for_delete()
                  (per-resource polling, its default 2 s interval)

Target: the plugin at most 1.5 requests a backup. Afterwards every
backup is checked gone at the server.
"""

import json
import subprocess
import time

import common
# The functional tests' reading of cinder-api's log (common puts the
# checkout on sys.path).
from tests.functional.test_wait import ApiLog


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--chain', type=common.positive_int, default=50,
                        help='incremental backups per chain (default: 50)')
    args = parser.parse_args()
    env = common.child_env(**common.local_cloud_env())
    admin = common.Admin()
    rows = []
    for label in ('plugin --wait', 'plugin', 'anchor'):
        volume, chain = seed_chain(args.chain, label)
        log = ApiLog()
        started = time.monotonic()
        if label == 'anchor':
            anchor(chain)
        else:
            wait = ['--wait'] if 'wait' in label else []
            common.run([common.OPENSTACK, 'vbs', 'backup', 'delete', *wait,
                        *chain, '-f', 'json'], env=env).check()
        took = time.monotonic() - started
        kinds = log.kinds()
        left = admin.wait_gone([volume], timeout=120)
        rows.append((label, len(chain), kinds['DELETE'], kinds['GET'],
                     kinds['list'], '%.2f' % (sum(kinds.values())
                                              / len(chain)),
                     '%.1f' % took, len(left)))
    common.print_table(
        'Deleting a 1+%d chain on the local Cinder (requests at the '
        'server)' % args.chain,
        ('side', 'backups', 'DELETE', 'GET', 'list', 'req/backup',
         'seconds', 'left'), rows)
    plugin = [float(r[5]) for r in rows if r[0].startswith('plugin')]
    print('target: plugin <= 1.5 requests a backup: %s'
          % ('met' if max(plugin) <= 1.5 else 'NOT met'))


def seed_chain(incrementals, label):
    """A real chain of a volume of its own: (volume ID, IDs oldest
    first).
    """
    common.note('%s: seeding a 1+%d chain (cinder-backup makes each)'
                % (label, incrementals))
    volume = _tool('seed-volume', '--name', 'bench-chain')['id']
    chain = [_tool('seed-backup', '--volume', volume)['id']]
    for _ in range(incrementals):
        chain.append(_tool('seed-backup', '--volume', volume,
                           '--incremental')['id'])
    return volume, chain


def _tool(*argv):
    done = subprocess.run([common.CLOUD_TOOL, *argv], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit('cloud %s failed:\n%s' % (argv[0],
                                                   done.stderr[-3000:]))
    return json.loads(done.stdout)


def anchor(chain):
    from keystoneauth1 import exceptions as ksa_exceptions
    import openstack
    from openstack.block_storage.v3 import backup as sdk_backup
    connection = openstack.connect(cloud=common.LOCAL_CLOUD)
    storage = connection.block_storage
    for backup_id in reversed(chain):
        storage.delete_backup(backup_id)
        for attempt in range(3):
            try:
                storage.wait_for_delete(sdk_backup.Backup(id=backup_id),
                                        interval=2, wait=120)
                break
            except (openstack.exceptions.SDKException,
                    ksa_exceptions.ConnectionError) as exc:
                # gunicorn drops a connection idle for its keep-alive (2 s)
                # and the SDK does not send again: as a runbook would.
                common.note('anchor: %s; polling again' % exc)


if __name__ == '__main__':
    main()
