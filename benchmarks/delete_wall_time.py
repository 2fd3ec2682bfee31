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

"""Wall time to delete N backups: `openstack vbs backup delete` (the plugin,
at its default parallelism) against `openstack volume backup delete`
(OpenStackClient itself, "the anchor", one GET and one DELETE per backup,
one after the other), both given the same number of IDs, each its own
freshly seeded backups.

Two settings:

(a) local: the local cloud as it is, endpoints from the catalog, no
    proxy. Also measured in the same run, "the ceiling": the least time
    any CLI could take here. Cinder's API is one gunicorn worker process,
    so the server handles the deletes essentially one at a time; the
    ceiling is Cinder's own time for N DELETEs (N raw DELETEs sent one
    after the other through a keystoneauth session, their response times
    summed) plus the CLI's fixed start-up cost (`openstack vbs backup
    delete --dry-run <missing uuid>`: interpreter, OSC and plugin load, a
    token, one GET). ours/ceiling close to 1.0 means the plugin adds
    almost nothing beyond what the server imposes.

(b) latency: the same cloud with a proxy adding --latency seconds (default
    0.05) to every Cinder request, as for a remote region; both sides use
    it through a temporary clouds.yaml with endpoint overrides (Keystone
    is reached directly). Target: anchor/ours >= 5.

Each measured run's backups are checked gone at the server before the
next run starts (so cinder-backup's work does not spill over). With
--repeat R every figure is the median of R runs; the sides' order
alternates between repeats.
"""

import sys
import uuid

import common
from faultproxy import FaultProxy

OURS = ['vbs', 'backup', 'delete']
ANCHOR = ['volume', 'backup', 'delete']
PROXIED_CLOUD = 'bench-latency'


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--count', type=common.positive_int, default=200,
                        help='backups deleted per run (default: 200)')
    parser.add_argument('--repeat', type=common.positive_int, default=1,
                        help='runs per figure; medians are shown (default 1)')
    parser.add_argument('--latency', type=float, default=0.05,
                        help='seconds the proxy adds per Cinder request in '
                             'setting (b) (default: 0.05)')
    parser.add_argument('--only', choices=('local', 'latency'),
                        help='run only one of the two settings')
    args = parser.parse_args()

    cloud_env = common.local_cloud_env()
    admin = common.Admin()
    times = {}  # figure name -> [seconds per repeat]
    with common.Seeded(admin) as seeded, common.temp_dir() as folder:
        bench = Bench(admin, seeded, folder, args.count, times, cloud_env)
        for repeat in range(args.repeat):
            common.note('repeat %d of %d' % (repeat + 1, args.repeat))
            flip = repeat % 2 == 1  # alternate which side goes first
            if args.only != 'latency':
                bench.local(flip)
            if args.only != 'local':
                bench.latency(args.latency, flip)
    report(times, args)
    return 1 if bench.failures else 0


class Bench:
    """Runs the measurements and collects their times."""

    def __init__(self, admin, seeded, folder, count, times, cloud_env):
        self.admin = admin
        self.cloud_env = cloud_env
        self.seeded = seeded
        self.folder = folder
        self.count = count
        self.times = times
        self.failures = []

    def record(self, name, value):
        self.times.setdefault(name, []).append(value)

    def local(self, flip):
        """Setting (a): catalog endpoints, no proxy; and the ceiling."""
        env = common.child_env(**self.cloud_env)
        self.record('server', self.server_time())
        startup = common.run(
            [common.OPENSTACK] + OURS + ['--dry-run', str(uuid.uuid4())],
            env=env).check(0, 1)  # 1: the missing backup fails the dry run
        self.record('startup', startup.seconds)
        for label, command in _ordered(flip):
            self.record('local ' + label, self.delete(label, command, env))

    def latency(self, latency, flip):
        """Setting (b): every Cinder request through a slow proxy."""
        with FaultProxy(self.admin.cinder_root(), latency=latency) as proxy:
            config = common.local_cloud_config()
            # A written-out project ID: openstacksdk's version discovery on
            # the block-storage override does not fill in %(project_id)s.
            endpoint = '%s/v3/%s' % (proxy.url, self.admin.project_id)
            config['vbs_endpoint_override'] = endpoint
            config['block_storage_endpoint_override'] = endpoint
            clouds_yaml = common.write_clouds_yaml(
                self.folder, {PROXIED_CLOUD: config})
            env = common.child_env(OS_CLIENT_CONFIG_FILE=clouds_yaml,
                                   OS_CLOUD=PROXIED_CLOUD)
            for label, command in _ordered(flip):
                self.record('latency ' + label,
                            self.delete(label, command, env))

    def delete(self, label, command, env):
        """Seed a batch, time one CLI deleting all of it, check it is gone."""
        volume_id, ids = self.seeded.batch(self.count, 'bench-wall-' + label)
        common.note('  %s: deleting %d backups' % (label, len(ids)))
        done = common.run([common.OPENSTACK] + command + ids, env=env)
        if done.returncode != 0:
            self.failures.append(label)
            common.note('  %s failed (exit %d):\n%s' % (
                label, done.returncode, done.stderr[-2000:]))
        self.settle(label, volume_id)
        return done.seconds

    def server_time(self):
        """Cinder's own time for N DELETEs, sent one after the other."""
        volume_id, ids = self.seeded.batch(self.count, 'bench-wall-raw')
        common.note('  ceiling: %d raw DELETEs' % len(ids))
        total = sum(self.admin.delete(backup_id) for backup_id in ids)
        self.settle('raw', volume_id)
        return total

    def settle(self, label, volume_id):
        """Wait until the batch is gone: verified, and no work spills over."""
        left = self.admin.wait_gone([volume_id])
        if left:
            self.failures.append(label)
            common.note('  %s: %d backups still there' % (label, len(left)))


def _ordered(flip):
    sides = [('ours', OURS), ('anchor', ANCHOR)]
    return sides[::-1] if flip else sides


def report(times, args):
    med = {name: common.median(values) for name, values in times.items()}
    suffix = ', median of %d' % args.repeat if args.repeat > 1 else ''
    if 'local ours' in med:
        ceiling = med['server'] + med['startup']
        rows = [
            ('ours (vbs backup delete)', common.seconds(med['local ours']),
             common.spread(times['local ours'])),
            ('anchor (volume backup delete)',
             common.seconds(med['local anchor']),
             common.spread(times['local anchor'])),
            ('ceiling = server + start-up', common.seconds(ceiling), ''),
            ('  server: %d raw DELETEs, summed' % args.count,
             common.seconds(med['server']), common.spread(times['server'])),
            ('  start-up: vbs delete --dry-run',
             common.seconds(med['startup']), common.spread(times['startup'])),
            ('anchor/ours', common.ratio(med['local anchor'],
                                         med['local ours']), ''),
            ('ours/ceiling', common.ratio(med['local ours'], ceiling), ''),
        ]
        common.print_table(
            '(a) local cloud, catalog endpoints, N=%d%s' % (args.count,
                                                            suffix),
            ('what', 'wall time', 'spread'), rows)
        print('ceiling: the least a CLI could take here: Cinder handles the '
              'deletes one at a time\n(one API worker process), so N deletes '
              'cost at least their summed server time,\nplus the fixed '
              'start-up of one openstack command. ours/ceiling near 1.00: '
              'the plugin\nadds little beyond that; slightly below 1.00 can '
              'happen (the worker has 4 threads\nand overlaps some waiting).')
    if 'latency ours' in med:
        speedup = med['latency anchor'] / med['latency ours']
        rows = [
            ('ours (vbs backup delete)', common.seconds(med['latency ours']),
             common.spread(times['latency ours'])),
            ('anchor (volume backup delete)',
             common.seconds(med['latency anchor']),
             common.spread(times['latency anchor'])),
            ('anchor/ours', '%.2f' % speedup, ''),
        ]
        common.print_table(
            '(b) +%g s latency per Cinder request, N=%d%s'
            % (args.latency, args.count, suffix),
            ('what', 'wall time', 'spread'), rows)
        print('target: ours at least 5x faster (anchor/ours >= 5): %s'
              % ('met' if speedup >= 5 else 'NOT met'))


if __name__ == '__main__':
    sys.exit(main())
