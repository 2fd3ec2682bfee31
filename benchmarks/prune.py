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

"""Prune at scale: `openstack vbs backup prune --dry-run` (the real
executable, a child process) over --backups backups (default 20,000) on
--volumes volumes (default 2,000), against the in-process fake Keystone +
VBS of tests/cli/fake_cloud.py serving at most 1000 backups a list page
(Cinder's default osapi_max_limit).

Each volume has a backup a day, the newest today; the rules are
--keep-daily 3 --keep-weekly 2 (seven backups in ten planned for
deletion; a dry run sends no DELETE). The anchor is the same
executable's `vbs backup list -f value -c ID` over the same backups, run
next to it: the dry run's wall time is shown as a ratio to it. Both
print one line per backup (`-f value -c ID`). A hook of the fake counts
the VBS requests of each run by kind (list pages, GETs, DELETEs).

Then, in this process, the planner alone: vbsclient.api.retention.plan
over the same records (as the fake's detailed list shows them).

Targets: the dry run sends at most 50 VBS requests, all list pages (the
issue: "a few dozen"; 20 pages of 1000 here), and no DELETE; its wall
time is at most 2 x the list's (planning costs less than listing). With
--repeat R (default 3) every figure is the median of R runs, the order of
dry run and list swapped every other repeat.
"""

import datetime
import os
import sys
import threading
import time
import urllib.parse

import common
from tests.cli.fake_cloud import FakeCloud
from vbsclient.api import retention
from vbsclient.api import retention_rules

RULES = ['--keep-daily', '3', '--keep-weekly', '2']
PRUNE = ['vbs', 'backup', 'prune', '--dry-run', '-f', 'value', '-c',
         'ID'] + RULES
LIST = ['vbs', 'backup', 'list', '-f', 'value', '-c', 'ID']
PAGE_SIZE = 1000
MOST_REQUESTS = 50
MOST_RATIO = 2.0


class Counter:
    """FakeCloud's `misbehave` hook: counts the VBS requests by kind and
    lets the fake answer them all.
    """

    def __init__(self):
        self.kinds = {}
        self.lock = threading.Lock()

    def __call__(self, method, path):
        parts = [p for p in urllib.parse.urlsplit(path).path.split('/')
                 if p]
        rest = parts[parts.index('backups') + 1:] if 'backups' in parts \
            else None
        if rest is None:
            kind = 'other'
        elif method == 'GET' and rest in ([], ['detail']):
            kind = 'list'
        else:
            kind = method
        with self.lock:
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return None

    def take(self):
        with self.lock:
            kinds, self.kinds = self.kinds, {}
        return kinds


def seed(cloud, backups, volumes):
    """`backups` backups spread evenly over `volumes` volumes, a day
    apart within each, the newest today.
    """
    today = datetime.datetime.now(datetime.timezone.utc).replace(
        hour=2, minute=0, second=0, microsecond=0, tzinfo=None)
    per_volume = -(-backups // volumes)
    volume_ids = [cloud.add_volume('bench-prune-%04d' % n)
                  for n in range(volumes)]
    for number in range(backups):
        volume, age = divmod(number, per_volume)
        made = (today - datetime.timedelta(days=age)).strftime(
            '%Y-%m-%dT%H:%M:%S.%f')
        cloud.add_backup('bench-prune-%05d' % number,
                         volume_id=volume_ids[volume], created_at=made,
                         updated_at=made)


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--repeat', type=common.positive_int, default=3,
                        help='runs per figure; medians are shown '
                             '(default: 3)')
    parser.add_argument('--backups', type=common.positive_int,
                        default=20000, help='backups (default: 20000)')
    parser.add_argument('--volumes', type=common.positive_int,
                        default=2000, help='volumes (default: 2000)')
    args = parser.parse_args()

    counter = Counter()
    figures = {'prune': [], 'list': []}
    requests = {'prune': [], 'list': []}
    lines = {}
    broken = []
    with common.temp_dir() as folder, \
            FakeCloud(misbehave=counter, page_size=PAGE_SIZE) as cloud:
        cloud.server.socket.listen(128)  # see faults.py
        common.note('seeding %d backups on %d volumes'
                    % (args.backups, args.volumes))
        seed(cloud, args.backups, args.volumes)
        clouds_yaml = folder / 'clouds.yaml'
        clouds_yaml.write_text(cloud.clouds_yaml())
        env = common.child_env(OS_CLIENT_CONFIG_FILE=str(clouds_yaml),
                               OS_CLOUD='fake')
        sides = [('prune', PRUNE), ('list', LIST)]
        for repeat in range(args.repeat):
            common.note('repeat %d of %d' % (repeat + 1, args.repeat))
            for label, argv in (sides[::-1] if repeat % 2 else sides):
                counter.take()
                done = common.run([common.OPENSTACK] + argv, env=env)
                kinds = counter.take()
                lines[label] = len(done.stdout.splitlines())
                common.note('  %s: %.2f s, exit %d, %d lines, requests %s'
                            % (label, done.seconds, done.returncode,
                               lines[label], kinds))
                if done.returncode:
                    broken.append('%s: exit %d: %s' % (
                        label, done.returncode, done.stderr[-600:]))
                figures[label].append(done.seconds)
                requests[label].append(kinds)
        if len(cloud.backups) != args.backups:
            broken.append('the dry run deleted %d backups'
                          % (args.backups - len(cloud.backups)))
        records = [cloud.shown(b) for b in cloud.backups.values()]

    planner = []
    rules = retention_rules.Rules(daily=3, weekly=2)
    for _ in range(args.repeat):
        start = time.perf_counter()
        decisions = retention.plan(records, rules)
        planner.append(time.perf_counter() - start)
    doomed = sum(d.action == retention.DELETE for d in decisions)

    print('plugin: %s' % common.plugin_revision())
    if os.environ.get('PYTHONPATH'):
        print('PYTHONPATH: %s' % os.environ['PYTHONPATH'])
    prune_s = common.median(figures['prune'])
    list_s = common.median(figures['list'])

    def total(label, kind=None):
        return max(sum(v for k, v in kinds.items() if kind in (None, k))
                   for kinds in requests[label])

    common.print_table(
        '%d backups on %d volumes, pages of %d, median of %d'
        % (args.backups, args.volumes, PAGE_SIZE, args.repeat),
        ['run', 'wall time', 'spread', 'VBS requests', 'list pages',
         'DELETEs', 'lines out'],
        [('prune --dry-run ' + ' '.join(RULES), common.seconds(prune_s),
          common.spread(figures['prune']), total('prune'),
          total('prune', 'list'), total('prune', 'DELETE'),
          lines.get('prune')),
         ('list -f value -c ID', common.seconds(list_s),
          common.spread(figures['list']), total('list'),
          total('list', 'list'), total('list', 'DELETE'),
          lines.get('list'))])
    common.print_table(
        'planner in-process (retention.plan), median of %d' % args.repeat,
        ['records', 'planned deletions', 'time', 'spread'],
        [(len(records), doomed, common.seconds(common.median(planner)),
          common.spread(planner))])
    ratio = prune_s / list_s if list_s else float('inf')
    ok_requests = (total('prune') <= MOST_REQUESTS
                   and total('prune', 'DELETE') == 0
                   and total('prune') == total('prune', 'list'))
    ok_ratio = ratio <= MOST_RATIO
    print('\ndry run / list wall time: %s' % common.ratio(prune_s, list_s))
    print('target: dry run <= %d VBS requests, all list pages: %s'
          % (MOST_REQUESTS, 'met' if ok_requests else 'NOT met'))
    print('target: dry run <= %.1f x list wall time: %s'
          % (MOST_RATIO, 'met' if ok_ratio else 'NOT met'))
    for problem in broken:
        print('PROBLEM: ' + problem)
    return 1 if broken else 0


if __name__ == '__main__':
    sys.exit(main())
