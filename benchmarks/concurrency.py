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

"""Concurrency: `openstack vbs backup delete` at its default parallelism
(no --parallel option: "default") against fixed `--parallel N` and
`openstack volume backup delete` (OpenStackClient itself, "the anchor": a
GET and a DELETE per backup, one after the other). Every run deletes its
own --count freshly seeded backups by ID, and is checked gone at the
server before the next run starts.

Three settings, where the best fixed parallelism differs:

(a) server-bound: the local cloud, catalog endpoints, no proxy, with
    Cinder's API served by the upstream eventlet `cinder-api` (swapped in
    with `tools/localcloud/cloud cinder-api eventlet`, and back to
    gunicorn at the end). Its one worker process serves every request on
    one OS thread, so requests in flight only queue: more of them cost
    more. Targets: default <= 1.10 x the wall time of --parallel 1 (the
    median of each repeat's own ratio: the two run next to each other),
    and anchor/default >= 1.2. The same runs on the gunicorn server (one
    worker, 4 threads) are printed for comparison, without targets.

(b) latency-bound: gunicorn, with Cinder behind tools/faultproxy.py adding
    --latency s (default 0.05) to every request, as for a remote region.
    Targets: anchor/default >= 5, and default within 1.15 x of the best
    fixed --parallel among 1, 2, 4, 8, 16, 32.

(c) throttled: gunicorn, with Cinder behind the proxy in throttling mode:
    a token bucket of --rate requests/s (default 20) and --burst (default
    20, one second's worth); above it the proxy answers 429 with
    Retry-After: 1 and forwards nothing. 20/s is about half of what this
    cloud serves to one client sending one request at a time, so the
    limit, not the server, bounds every run, and how the client reacts to
    429 is all that is measured. Targets: the default finishes with no
    failure, and 429 answers are at most 10% of the requests the proxy
    saw. Fixed --parallel 1 and 8, and the anchor, are shown for
    comparison (OpenStackClient does not retry a 429: the anchor's
    throttled requests are its failures).

Also shown per run, from the local cloud's logs: Cinder's own time per
DELETE (request in to answer out, median and 90th percentile) and how
often SQLite said "database is locked" in cinder-api / cinder-backup
(log records; each is a write that failed and was not retried).

With --repeat R every figure is the median of R runs; the order of the
runs in a setting is reversed every other repeat. `--only` picks settings.
"""

import re
import sys
import uuid

import common
from faultproxy import FaultProxy
from faultproxy import Throttle

OURS = ['vbs', 'backup', 'delete']
ANCHOR = ['volume', 'backup', 'delete']
PROXIED_CLOUD = 'bench-concurrency'
SERVER_BOUND_PARALLEL = (1, 2, 4, 8)
LATENCY_PARALLEL = (1, 2, 4, 8, 16, 32)
THROTTLED_PARALLEL = (1, 8)
FAILED_LINE = re.compile(r'^(\d+) of \d+ backups? failed', re.M)
# A log record's lines share its "date time pid" prefix.
LOCKED_RECORD = re.compile(r'^(\S+ \S+ \d+) .*database is locked', re.M)


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--count', type=common.positive_int, default=200,
                        help='backups deleted per run (default: 200)')
    parser.add_argument('--repeat', type=common.positive_int, default=1,
                        help='runs per figure; medians are shown (default 1)')
    parser.add_argument('--only', choices=('a', 'b', 'c'), action='append',
                        help='run only this setting (may be repeated)')
    parser.add_argument('--latency', type=float, default=0.05,
                        help='seconds the proxy adds per request in (b) '
                             '(default: 0.05)')
    parser.add_argument('--rate', type=float, default=20.0,
                        help='requests/s the proxy lets through in (c) '
                             '(default: 20)')
    parser.add_argument('--burst', type=common.positive_int, default=20,
                        help='token bucket size in (c) (default: 20)')
    args = parser.parse_args()
    settings = args.only or ['a', 'b', 'c']

    cloud_env = common.local_cloud_env()
    admin = common.Admin()
    runs = {}  # (setting, label) -> [Result per repeat]
    with common.Seeded(admin) as seeded, common.temp_dir() as folder:
        bench = Bench(admin, seeded, folder, args, runs, cloud_env)
        for repeat in range(args.repeat):
            common.note('repeat %d of %d' % (repeat + 1, args.repeat))
            flip = repeat % 2 == 1
            if 'a' in settings:
                bench.server_bound(flip)
            if 'b' in settings:
                bench.latency_bound(flip)
            if 'c' in settings:
                bench.throttled(flip)
    report(runs, args, settings)
    return 1 if bench.broken else 0


class Result:
    """One CLI run: wall time, what failed, and the server's side of it."""

    def __init__(self, seconds, failed, left, server_times, locked,
                 requests=0, throttled=0):
        self.seconds = seconds
        self.failed = failed          # backups the CLI reported failed
        self.left = left              # backups still there afterwards
        self.server_times = server_times
        self.locked = locked          # (cinder-api, cinder-backup) lines
        self.requests = requests      # seen by the proxy, if any
        self.throttled = throttled    # of them answered 429 by the proxy


class Bench:
    """Runs the measurements and collects their results."""

    def __init__(self, admin, seeded, folder, args, runs, cloud_env):
        self.admin = admin
        self.seeded = seeded
        self.folder = folder
        self.args = args
        self.runs = runs
        self.cloud_env = cloud_env
        self.broken = []  # (a) and (b) runs that did not delete everything

    # -- the settings --------------------------------------------------------

    def server_bound(self, flip):
        """(a): catalog endpoints, each API server in turn; gunicorn last,
        and whatever happens, so the shared cloud is left as it was.
        """
        env = common.child_env(**self.cloud_env)
        try:
            for server in ('gunicorn', 'eventlet'):
                common.switch_api_server(server)
                self.warm_up()
                for label, command in _sides(SERVER_BOUND_PARALLEL, flip):
                    self.record(('a ' + server, label),
                                self.delete(label, command, env))
        finally:
            common.switch_api_server('gunicorn')

    def latency_bound(self, flip):
        """(b): every Cinder request through a slow proxy."""
        common.switch_api_server('gunicorn')
        self.warm_up()
        with FaultProxy(self.admin.cinder_root(),
                        latency=self.args.latency) as proxy:
            env = self.proxied_env(proxy)
            for label, command in _sides(LATENCY_PARALLEL, flip):
                self.record(('b', label), self.delete(label, command, env))

    def throttled(self, flip):
        """(c): a fresh throttling proxy per run, so each starts with a
        full bucket and its own counts.
        """
        common.switch_api_server('gunicorn')
        self.warm_up()
        for label, command in _sides(THROTTLED_PARALLEL, flip):
            throttle = Throttle(self.args.rate, burst=self.args.burst,
                                retry_after=1)
            with FaultProxy(self.admin.cinder_root(),
                            throttle=throttle) as proxy:
                result = self.delete(label, command, self.proxied_env(proxy),
                                     must_succeed=False)
                result.requests = proxy.count(fault=None)
                result.throttled = proxy.count(fault=True)
            self.record(('c', label), result)

    # -- one run ---------------------------------------------------------

    def delete(self, label, command, env, must_succeed=True):
        """Seed a batch, time one CLI deleting all of it, check it is gone."""
        volume_id, ids = self.seeded.batch(self.args.count,
                                           'bench-conc-' + label.split()[-1])
        api_log = common.LogTail(common.local_cloud_log('cinder-api'))
        backup_log = common.LogTail(common.local_cloud_log('cinder-backup'))
        common.note('  %s: deleting %d backups' % (label, len(ids)))
        done = common.run([common.OPENSTACK] + command + ids, env=env)
        common.note('  %s: %.2f s' % (label, done.seconds))
        left = self.settle(volume_id)
        failed = _failed_count(done, len(ids))
        if failed:
            common.note('  %s: %d failed (exit %d): %s' % (
                label, failed, done.returncode, done.stderr[-600:]))
        if must_succeed and (failed or left):
            self.broken.append(label)
        api_text, backup_text = api_log.read(), backup_log.read()
        return Result(done.seconds, failed, left,
                      common.delete_server_times(api_text),
                      (_locked(api_text), _locked(backup_text)))

    def settle(self, volume_id):
        """Wait until the batch's deletes are done (so no work spills into
        the next run); delete what was never deleted, directly, and return
        how many that was.
        """
        left = self.admin.wait_settled([volume_id])
        stuck = [i for i, status in left.items() if status != 'deleting']
        if stuck:
            for backup_id in stuck:
                self.admin.delete(backup_id)
            self.admin.wait_gone([volume_id])
        return len(left)

    def warm_up(self):
        """One request first: a freshly started API fetches its own
        Keystone token on its first request, which no run should pay.
        """
        self.admin.remaining(str(uuid.uuid4()))

    def proxied_env(self, proxy):
        """A clouds.yaml whose Cinder endpoints are the proxy."""
        config = common.local_cloud_config()
        # A written-out project ID: openstacksdk's version discovery on the
        # block-storage override does not fill in %(project_id)s.
        endpoint = '%s/v3/%s' % (proxy.url, self.admin.project_id)
        config['vbs_endpoint_override'] = endpoint
        config['block_storage_endpoint_override'] = endpoint
        clouds_yaml = common.write_clouds_yaml(self.folder,
                                               {PROXIED_CLOUD: config})
        return common.child_env(OS_CLIENT_CONFIG_FILE=clouds_yaml,
                                OS_CLOUD=PROXIED_CLOUD)

    def record(self, key, result):
        self.runs.setdefault(key, []).append(result)


def _sides(parallels, flip):
    """(label, command) of every run of a setting, in this repeat's order."""
    sides = [('default', OURS)]
    sides += [('--parallel %d' % n, OURS + ['--parallel', str(n)])
              for n in parallels]
    sides.append(('anchor', ANCHOR))
    return sides[::-1] if flip else sides


def _failed_count(done, total):
    """Backups the CLI says failed: its summary line, else all or none."""
    match = FAILED_LINE.search(done.stderr)
    if match:
        return int(match.group(1))
    return 0 if done.returncode == 0 else total


def _locked(log_text):
    """Log records that say SQLite was locked: one per event, although a
    traceback repeats the words on several lines of the same record.
    """
    return len(set(LOCKED_RECORD.findall(log_text)))


# -- the report ---------------------------------------------------------

def report(runs, args, settings):
    suffix = ', median of %d' % args.repeat if args.repeat > 1 else ''
    print('plugin: %s' % common.plugin_revision())
    if 'a' in settings:
        for server in ('gunicorn', 'eventlet'):
            report_server_bound(runs, args, server, suffix)
    if 'b' in settings:
        report_latency_bound(runs, args, suffix)
    if 'c' in settings:
        report_throttled(runs, args, suffix)


def _wall(runs, key):
    return common.median([r.seconds for r in runs[key]])


def _paired_ratio(runs, setting, label, baseline):
    """The median over repeats of label's wall time over baseline's.

    The two run next to each other in every repeat, so each ratio sees
    the machine and the cloud in the same state; a ratio of medians mixes
    runs minutes apart, while the cloud slows down as deleted rows pile up
    and the machine's speed drifts by 10 to 20 %.
    """
    pairs = zip(runs[(setting, label)], runs[(setting, baseline)])
    return common.median([ours.seconds / base.seconds
                          for ours, base in pairs])


def _row(runs, key, extra=()):
    """Label, wall time, spread, server ms per DELETE, locks, failures."""
    results = runs[key]
    times = [t for r in results for t in r.server_times]
    server = ('%.0f / %.0f ms' % (1000 * common.median(times),
                                  1000 * common.percentile(times, 0.9))
              if times else 'n/a')
    locked = '%d / %d' % (sum(r.locked[0] for r in results),
                          sum(r.locked[1] for r in results))
    failed = '%d' % common.median([r.failed for r in results])
    return (key[1], common.seconds(_wall(runs, key)),
            common.spread([r.seconds for r in results]), server, locked,
            failed) + tuple(extra)


HEADERS = ('run', 'wall time', 'spread', 'server/DELETE med / p90',
           'db locked api / backup', 'failed')


def report_server_bound(runs, args, server, suffix):
    setting = 'a ' + server
    keys = [k for k in runs if k[0] == setting]
    if not keys:
        return
    common.print_table(
        '(a) server-bound: Cinder API on %s, catalog endpoints, N=%d%s'
        % (server, args.count, suffix), HEADERS,
        [_row(runs, k) for k in keys])
    default = _wall(runs, (setting, 'default'))
    sequential = _wall(runs, (setting, '--parallel 1'))
    anchor = _wall(runs, (setting, 'anchor'))
    paired = _paired_ratio(runs, setting, 'default', '--parallel 1')
    print('default / --parallel 1: %s (medians), %s (median of the '
          'repeats\' own ratios)    anchor / default: %s'
          % (common.ratio(default, sequential), common.ratio(paired, 1.0),
             common.ratio(anchor, default)))
    if server == 'eventlet':
        print('target: (a) default <= 1.10 x --parallel 1: %s'
              % _met(paired <= 1.10))
        print('target: (a) default >= 1.2 x faster than the anchor: %s'
              % _met(anchor >= 1.2 * default))


def report_latency_bound(runs, args, suffix):
    keys = [k for k in runs if k[0] == 'b']
    fixed = {k[1]: _wall(runs, k) for k in keys if k[1].startswith('--')}
    best_label = min(fixed, key=fixed.get)
    default = _wall(runs, ('b', 'default'))
    anchor = _wall(runs, ('b', 'anchor'))
    common.print_table(
        '(b) latency-bound: +%g s per Cinder request (proxy), gunicorn, '
        'N=%d%s' % (args.latency, args.count, suffix),
        HEADERS + ('/ best fixed',),
        [_row(runs, k, (common.ratio(_wall(runs, k), fixed[best_label]),))
         for k in keys])
    print('best fixed: %s    anchor / default: %s    default / best: %s'
          % (best_label, common.ratio(anchor, default),
             common.ratio(default, fixed[best_label])))
    print('target: (b) default >= 5 x faster than the anchor: %s'
          % _met(anchor >= 5 * default))
    print('target: (b) default within 1.15 x of the best fixed --parallel: %s'
          % _met(default <= 1.15 * fixed[best_label]))


def report_throttled(runs, args, suffix):
    keys = [k for k in runs if k[0] == 'c']
    rows = []
    for key in keys:
        results = runs[key]
        requests = sum(r.requests for r in results)
        throttled = sum(r.throttled for r in results)
        rows.append(_row(runs, key, (
            '%d' % requests, '%d' % throttled,
            '%.1f%%' % (100.0 * throttled / requests if requests else 0))))
    common.print_table(
        '(c) throttled: proxy at %g requests/s, burst %d, Retry-After 1, '
        'gunicorn, N=%d%s' % (args.rate, args.burst, args.count, suffix),
        HEADERS + ('requests', '429s', '429 share'), rows)
    print('(requests and 429s: totals over all repeats)')
    default = runs[('c', 'default')]
    # A failed backup is also left at the server: count it once.
    failures = sum(max(r.failed, r.left) for r in default)
    requests = sum(r.requests for r in default)
    throttled = sum(r.throttled for r in default)
    print('target: (c) default finishes with zero failures: %s (%d failed)'
          % (_met(failures == 0), failures))
    print('target: (c) 429s at most 10%% of the requests: %s (%d of %d)'
          % (_met(requests and throttled <= 0.10 * requests), throttled,
             requests))


def _met(ok):
    return 'met' if ok else 'NOT met'


if __name__ == '__main__':
    sys.exit(main())
