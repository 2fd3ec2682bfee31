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

"""A server that is not the limit: `openstack vbs backup delete -` (the
real executable, a child process) against the CLI tests' in-process fake
Keystone + VBS (tests/cli/fake_cloud.py, a ThreadingHTTPServer: a thread
per connection, no bound on requests in flight), where every VBS request
is answered --latency s (default 0.05) after it arrives, as from a remote
region whose API has room to spare. Keystone's requests are not delayed.
Every run deletes its own freshly added backups, their IDs on standard
input.

The figure of a run is its span AT THE SERVER: from the first VBS
request's arrival to the last one's (the CLI's start-up and exit, 1 to
2 s of noise on this machine, are left out). Each figure is the best of
--runs runs; the runs of a setting are interleaved (run 1 of each
side, then run 2 of each, ...), so a busy moment of the machine does not
fall on one side only.

(l1) the climb: --counts deletes (default 200 and 1000) with the default
     (no --parallel) and fixed --parallel 8, 16 and 32 (--fixed). The
     floor is count / 32 x latency. Target: default <= 1.15 x the best
     fixed.

(l2) random faults: --fault-backups deletes (default 1500) with the
     default, clean and with --fault-rate (default 10%) of the VBS
     requests answered 503 with an HTML page and no Retry-After (as a
     gateway sends it), from a seeded generator (--seed plus the run's
     number). Target: faulted <= 1.5 x clean.

A clean run that does not delete everything makes the exit status 1.
"""

import sys
import time

import common
import faults
from tests.cli.fake_cloud import FakeCloud

DELETE = ['vbs', 'backup', 'delete', '-']
COUNTS = (200, 1000)
FIXED = (8, 16, 32)
FAULT_BACKUPS = 1500
CLIMB_TARGET = 1.15
FAULT_TARGET = 1.5


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--runs', type=common.positive_int, default=3,
                        help='runs per figure; the best is shown '
                             '(default: 3)')
    parser.add_argument('--only', choices=('l1', 'l2'), action='append',
                        help='run only this setting (may be repeated)')
    parser.add_argument('--latency', type=float, default=0.05,
                        help='seconds before each VBS answer '
                             '(default: 0.05)')
    parser.add_argument('--counts', type=common.positive_int, nargs='+',
                        default=list(COUNTS),
                        help='deletes per run in (l1) (default: 200 1000)')
    parser.add_argument('--fixed', type=common.positive_int, nargs='+',
                        default=list(FIXED),
                        help='fixed --parallel values of (l1) '
                             '(default: 8 16 32)')
    parser.add_argument('--fault-backups', type=common.positive_int,
                        default=FAULT_BACKUPS,
                        help='deletes per run in (l2) (default: %d)'
                             % FAULT_BACKUPS)
    parser.add_argument('--fault-rate', type=float, default=0.10,
                        help='share of VBS requests answered 503 in (l2) '
                             '(default: 0.10)')
    parser.add_argument('--seed', type=int, default=23,
                        help='seed of (l2)\'s faults; run r uses seed + r '
                             '(default: 23)')
    args = parser.parse_args()
    settings = args.only or ['l1', 'l2']

    bench = Bench(args.latency)
    with common.temp_dir() as folder:
        bench.folder = folder
        if 'l1' in settings:
            for count in args.counts:
                sides = [('default', [])] + [
                    ('--parallel %d' % n, ['--parallel', str(n)])
                    for n in args.fixed]
                bench.interleaved(('l1', count), count, sides, args.runs)
        if 'l2' in settings:
            sides = [('clean default', [], None),
                     ('faulted default', [], args.fault_rate)]
            bench.interleaved(('l2',), args.fault_backups, sides, args.runs,
                              seed=args.seed)
    print('plugin: %s' % common.plugin_revision())
    print('latency: %g s per VBS request; figures: first to last VBS '
          'request at the server, best of %d' % (args.latency, args.runs))
    verdicts = []
    if 'l1' in settings:
        for count in args.counts:
            verdicts.append(report_climb(bench.runs[('l1', count)], count,
                                         args))
    if 'l2' in settings:
        verdicts.append(report_faults(bench.runs[('l2',)], args))
    for problem in bench.broken:
        print('PROBLEM: ' + problem)
    return 1 if bench.broken else 0


class Latent:
    """FakeCloud's `misbehave` hook: notes each VBS request (through a
    faults.Server, which also picks the faults), then answers after
    `latency` seconds, the fault or the fake's own answer.
    """

    def __init__(self, server, latency):
        self.server = server
        self.latency = latency

    def __call__(self, method, path):
        answer = self.server(method, path)
        time.sleep(self.latency)
        return answer


class Result:
    """One CLI run and what the server saw of it."""

    def __init__(self, done, server, ids, cloud):
        arrivals = [t for t, _, _ in server.arrivals]
        self.span = max(arrivals) - min(arrivals) if arrivals else 0.0
        self.wall = done.seconds
        self.requests = server.count()
        self.faulted = server.count(faulted=True)
        self.left = sum(1 for i in ids if i in cloud.backups)
        self.returncode = done.returncode
        self.stderr = done.stderr


class Bench:

    def __init__(self, latency):
        self.latency = latency
        self.folder = None
        self.runs = {}   # setting -> {label: [Result per run]}
        self.broken = []

    def interleaved(self, setting, count, sides, runs, seed=0):
        """Each side once per round, `runs` rounds."""
        found = self.runs.setdefault(setting, {})
        for number in range(runs):
            common.note('%s, run %d of %d' % (setting[0], number + 1, runs))
            for side in sides:
                label, options = side[0], side[1]
                rate = side[2] if len(side) > 2 else None
                plan = (faults.RandomPlan(rate, seed + number)
                        if rate else None)
                result = self.delete(label, count, options,
                                     faults.Server(plan))
                found.setdefault(label, []).append(result)
                if not rate and (result.returncode or result.left):
                    self.broken.append('%s: exit %d, %d of %d left; %s' % (
                        label, result.returncode, result.left, count,
                        result.stderr[-600:]))

    def delete(self, label, count, options, server):
        with FakeCloud(misbehave=Latent(server, self.latency)) as cloud:
            ids = [cloud.add_backup('bench-fast-%05d' % n)
                   for n in range(count)]
            env, ids_file = common.fake_cloud_run(self.folder, cloud, ids)
            done = common.run([common.OPENSTACK] + DELETE + options, env=env,
                              stdin_path=ids_file)
            result = Result(done, server, ids, cloud)
        common.note('  %s, %d deletes: %.2f s at the server (wall %.2f s), '
                    '%d VBS requests, %d faulted, %d left, exit %d'
                    % (label, count, result.span, result.wall,
                       result.requests, result.faulted, result.left,
                       result.returncode))
        return result


def _best(results):
    return min(r.span for r in results)


def _row(label, results, baseline):
    spans = [r.span for r in results]
    return (label, common.seconds(min(spans)), common.spread(spans),
            '%d' % min(r.requests for r in results),
            common.ratio(min(spans), baseline))


def _met(ok):
    return 'met' if ok else 'NOT met'


def report_climb(runs, count, args):
    fixed = {label: _best(results) for label, results in runs.items()
             if label != 'default'}
    best_label = min(fixed, key=fixed.get)
    best = fixed[best_label]
    common.print_table(
        '(l1) %d deletes, no capacity limit, %g s per request; floor '
        '%.2f s (%d / 32 x latency)'
        % (count, args.latency, count / 32 * args.latency, count),
        ('run', 'span (best)', 'spread', 'VBS requests', 'to best fixed'),
        [_row(label, results, best) for label, results in runs.items()])
    ours = _best(runs['default'])
    ok = ours <= CLIMB_TARGET * best
    print('target: (l1) %d deletes: default <= %.2f x the best fixed (%s, '
          '%.2f s): %.2f, %s' % (count, CLIMB_TARGET, best_label, best,
                                 ours / best, _met(ok)))
    return ok


def report_faults(runs, args):
    clean = _best(runs['clean default'])
    common.print_table(
        '(l2) %d deletes, %g%% random 503s (HTML, no Retry-After), %g s '
        'per request; default' % (args.fault_backups, 100 * args.fault_rate,
                                  args.latency),
        ('run', 'span (best)', 'spread', 'VBS requests', 'to clean'),
        [_row(label, results, clean) for label, results in runs.items()])
    faulted = _best(runs['faulted default'])
    ok = faulted <= FAULT_TARGET * clean
    print('target: (l2) faulted default <= %.1f x clean default: %.2f, %s'
          % (FAULT_TARGET, faulted / clean, _met(ok)))
    return ok


if __name__ == '__main__':
    sys.exit(main())
