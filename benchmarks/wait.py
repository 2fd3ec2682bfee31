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

"""What waiting until gone costs the server: requests per backup, and how
long after the last deletion the wait ends (issue 24).

Against FakeCloud (tests/cli/fake_cloud.py: Cinder's list, paging and
deletion times, every request recorded with its arrival), three ways to
wait, in the same run:

* the plugin: the real `openstack vbs backup delete --wait` (or `prune
  --wait`), which reads pending backups from list pages where that costs
  fewer requests;
* per-backup polling, as this plugin's --wait did before: every pending
  backup's GET each round, pauses of 1, 2, 4, 8, then 10 s;
* the anchor, openstacksdk's wait_for_delete: each backup on its own, one
  after the other, a GET every 2 s until 404 (the first at once).

The baselines send their DELETEs with the plugin's library client (8 at
a time), then wait. Settings (the issue's):

* 300 backups whose deletion takes 20 s: target at most 1.1 requests a
  backup, and the end within 3 s of the last deletion;
* 5 backups among 20,000 (pages of 1,000): target no more requests than
  polling each (the anchor's figure is printed beside it);
* prune --keep-last 1 --wait over a whole project of 400 volumes with 4
  backups each (1,200 deletions of 3 s): target at most 1.2 requests a
  deletion.

--quick shortens the deletions (5 s; 1 s for the prune) and the prune (100
volumes) for a smoke run; its figures are not the targets'.
"""

import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
import uuid

import common

from tests.cli.fake_cloud import FakeCloud


def last_deletion(cloud, duration):
    """When the last accepted delete's deletion ended (monotonic)."""
    return max(r.at for r in cloud.vbs_requests()
               if r.method == 'DELETE') + duration


class Setting:
    def __init__(self, name, duration, page_size=None):
        self.name, self.duration, self.page_size = name, duration, page_size

    def cloud(self):
        return FakeCloud(delete_duration=self.duration,
                         page_size=self.page_size)


def plugin(cloud, argv):
    with tempfile.TemporaryDirectory() as folder:
        config = os.path.join(folder, 'clouds.yaml')
        with open(config, 'w') as stream:
            stream.write(cloud.clouds_yaml())
        env = common.child_env(OS_CLIENT_CONFIG_FILE=config)
        done = subprocess.run([common.OPENSTACK, '--os-cloud', 'fake']
                              + argv, env=env, capture_output=True,
                              text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit('the plugin failed: %s' % done.stderr[-2000:])
    return time.monotonic()


def delete_all(client, ids):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(client.delete, ids))


def gone(client, backup_id):
    from vbsclient.api import errors
    try:
        client.get(backup_id)
    except errors.NotFound:
        return True
    return False


def per_backup_polling(cloud, ids):
    """The plugin's --wait before: GET each pending backup, back-off."""
    client = cloud.library_client()
    delete_all(client, ids)
    pending, pause = list(ids), 1.0
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        while pending:
            done = list(pool.map(lambda i: gone(client, i), pending))
            pending = [i for i, ended in zip(pending, done) if not ended]
            if pending:
                time.sleep(pause)
                pause = min(pause * 2, 10.0)
    return time.monotonic()


def anchor(cloud, ids):
    """openstacksdk's wait_for_delete, one backup after the other."""
    client = cloud.library_client()
    delete_all(client, ids)
    for backup_id in ids:
        while not gone(client, backup_id):
            time.sleep(2.0)
    return time.monotonic()


def measure(setting, populate, wait):
    """(requests by kind, backups waited for, seconds after the last
    deletion) of one way to wait, on a fresh cloud.
    """
    with setting.cloud() as cloud:
        ids = populate(cloud)
        ended = wait(cloud, ids)
        kinds = cloud.vbs_requests_by_kind()
        waited = kinds['DELETE']
        return kinds, waited, ended - last_deletion(cloud, setting.duration)


def row(name, kinds, waited, late):
    total = sum(kinds.values())
    return (name, waited, kinds['DELETE'], kinds['GET'], kinds['list'],
            '%.2f' % (total / waited), '%.1f s' % late)


HEADERS = ('way to wait', 'backups', 'DELETE', 'GET', 'list pages',
           'requests/backup', 'end after last deletion')


def bulk_setting(setting, count, others):
    def populate(cloud):
        for n in range(others):
            cloud.add_backup('other-%d' % n)
        return [cloud.add_backup('b%d' % n) for n in range(count)]

    def ours(cloud, ids):
        return plugin(cloud, ['vbs', 'backup', 'delete', '--wait'] + ids)
    rows = []
    for name, wait in (('plugin --wait', ours),
                       ('per-backup polling (before)', per_backup_polling),
                       ('anchor: wait_for_delete', anchor)):
        common.note('%s: %s' % (setting.name, name))
        rows.append(row(name, *measure(setting, populate, wait)))
    common.print_table(setting.name, HEADERS, rows)
    return rows


def prune_setting(setting, volumes):
    def populate(cloud):
        planned = []
        for volume in range(volumes):
            volume_id = str(uuid.uuid4())
            made = [cloud.add_backup('v%d-%d' % (volume, day),
                                     volume_id=volume_id,
                                     created_at='2026-11-%02dT02:00:00'
                                     % day) for day in (1, 2, 3, 4)]
            planned.extend(made[:-1])
        return planned

    def ours(cloud, ids):
        return plugin(cloud, ['vbs', 'backup', 'prune', '--keep-last', '1',
                              '--wait'])
    rows = []
    for name, wait in (('plugin prune --wait', ours),
                       ('per-backup polling (before)', per_backup_polling)):
        common.note('%s: %s' % (setting.name, name))
        rows.append(row(name, *measure(setting, populate, wait)))
    common.print_table(setting.name, HEADERS, rows)
    return rows


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--quick', action='store_true',
                        help='shorter deletions and a smaller prune')
    args = parser.parse_args()
    slow, prune_takes, volumes = (5, 1, 100) if args.quick else (20, 3, 400)
    many = bulk_setting(Setting('300 backups, deletions of %d s' % slow,
                                slow), 300, 0)
    few = bulk_setting(Setting('5 backups among 20,000, deletions of %d s'
                               % slow, slow, page_size=1000), 5, 20000)
    pruned = prune_setting(Setting('prune --wait, %d volumes x 4 backups, '
                                   'deletions of %d s' % (volumes,
                                                          prune_takes),
                                   prune_takes), volumes)
    per_backup = float(many[0][5])
    late = float(many[0][6].split()[0])
    few_ours, few_each, few_anchor = (sum(r[2:5]) for r in few)
    prune_per = float(pruned[0][5])
    met = per_backup <= 1.1 and late <= 3 and few_ours <= few_each \
        and prune_per <= 1.2
    print('\ntarget: 300 backups at most 1.1 requests each (%.2f) and the '
          'end within 3 s of the last deletion (%.1f s); 5 among 20,000 no '
          'more requests than polling each (%d against %d; the anchor, one '
          'after the other: %d); prune --wait at most 1.2 requests a '
          'deletion (%.2f): %s'
          % (per_backup, late, few_ours, few_each, few_anchor, prune_per,
             'met' if met else 'NOT met'))
    return 0 if met else 1


if __name__ == '__main__':
    sys.exit(main())
