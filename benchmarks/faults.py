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

"""Faults: `openstack vbs backup delete` (the real executable, a child
process) against a fast in-process fake Keystone + VBS on 127.0.0.1
(tests/cli/fake_cloud.py) that answers some requests with faults. Every
run deletes its own freshly added backups, given as IDs on standard
input ("-"). A hook of the fake notes the arrival time, kind (DELETE,
GET of one backup, list) and answer of every VBS request, and answers
the faults; Keystone's requests are never faulted nor counted.

(f1) random 503s: 10% of the VBS requests (--fault-rate) are answered
     503 with an HTML page and no Retry-After, as a gateway sends it,
     drawn from a seeded generator (--seed, plus the repeat's number).
     --backups deletes (default 200) per run; four runs per repeat: the
     default (no --parallel) and --parallel 8, each clean and faulted.
     Targets: faulted default <= 1.5 x the clean default, and <= 1.25 x
     faulted --parallel 8 (wall time; the median of each repeat's own
     ratio, the runs of a repeat run next to each other).

(f2) an outage: every VBS request is answered 503 (HTML) for 3 s
     (--outage), starting 1 s after the first DELETE reaches the server,
     in a run of the default deleting --backups backups (default 2000).
     From the DELETEs' arrival times: the pre-outage rate (DELETEs in the
     0.5 s window before the outage, per second), and the recovery time:
     from the outage's end to the first DELETE of the first 0.5 s window
     (at or after the end) holding at least 80% of that rate. Target: <= 2 s
     (the median over repeats). A window must end before the run's last
     DELETE (else the work ran out, not the rate): the run needs about
     2.5 s of work left after the outage. The fake serves 400 to 600
     DELETEs a second, so 300 backups (the issue's figure) are all gone
     in about 0.6 s, before the outage; 2000 leave it about 1400. A run
     still going 10 s after the outage (--give-up) is stopped as a user
     would, with Ctrl-C (SIGINT; a second one 2 s later aborts), to keep
     the benchmark short; a recovery not seen by then is NOT MET.

(f3) an incremental chain: 1 full + 50 incremental backups (--chain) of
     one volume, named oldest first in one command (the default). The
     fake gets Cinder's rule from this script: a DELETE of a backup that
     a later one of the chain still depends on is answered 400 "Invalid
     backup: Incremental backups exist for this backup." (Cinder's
     recorded answer), and has_dependent_backups follows what is left.
     Target: VBS requests (DELETE + GET + list) per backup <= 3.

With --repeat R (default 3) every figure is the median of R runs; in
(f1) the order of the runs is reversed every other repeat. `--only`
picks settings. Every run's wall time goes to stderr, the report to
stdout. A clean run that does not delete everything makes the exit
status 1; a faulted one is a result, shown in the tables.
"""

import bisect
import datetime
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import common
from faultproxy import RandomFaults
from tests.cli.fake_cloud import FakeCloud
from tests.cli import hostile
from tests.fixtures import recorded

DELETE = ['vbs', 'backup', 'delete', '-']
P8 = ['--parallel', '8']
F1_BACKUPS = 200
F2_BACKUPS = 2000
WINDOW = 0.5          # seconds: the sliding window of (f2)
RECOVERED = 0.8       # of the pre-outage rate: recovered
OUTAGE_AFTER = 1.0    # seconds after the first DELETE
FAILED_LINE = re.compile(r'(\d+) of \d+ backups? failed', re.M)
KINDS = ('DELETE', 'GET', 'list', 'other')
# What a gateway in front of a struggling API sends: no JSON, no
# Retry-After.
GATEWAY_503 = hostile.html_page(503, '503 Service Unavailable')
CHAIN_START = datetime.datetime(2026, 11, 27, 22, 0, 0)


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--repeat', type=common.positive_int, default=3,
                        help='runs per figure; medians are shown '
                             '(default: 3)')
    parser.add_argument('--only', choices=('f1', 'f2', 'f3'),
                        action='append',
                        help='run only this setting (may be repeated)')
    parser.add_argument('--backups', type=common.positive_int,
                        help='backups per run in (f1) and (f2) (default: '
                             '%d and %d)' % (F1_BACKUPS, F2_BACKUPS))
    parser.add_argument('--chain', type=common.positive_int, default=50,
                        help='incremental backups after the full one in '
                             '(f3) (default: 50)')
    parser.add_argument('--fault-rate', type=float, default=0.10,
                        help='share of VBS requests answered 503 in (f1) '
                             '(default: 0.10)')
    parser.add_argument('--seed', type=int, default=15,
                        help='seed of (f1)\'s faults; repeat r uses '
                             'seed + r (default: 15)')
    parser.add_argument('--outage', type=float, default=3.0,
                        help='seconds of the outage in (f2) (default: 3)')
    parser.add_argument('--give-up', type=float, default=10.0,
                        help='seconds after the outage at which (f2) '
                             'stops a run still going (default: 10)')
    args = parser.parse_args()
    settings = args.only or ['f1', 'f2', 'f3']

    bench = Bench()
    with common.temp_dir() as folder:
        bench.folder = folder
        for repeat in range(args.repeat):
            common.note('repeat %d of %d' % (repeat + 1, args.repeat))
            if 'f1' in settings:
                bench.random_503s(args, repeat)
            if 'f2' in settings:
                bench.outage(args)
            if 'f3' in settings:
                bench.chain(args)
    print('plugin: %s' % common.plugin_revision())
    if os.environ.get('PYTHONPATH'):  # e.g. another checkout's vbsclient
        print('PYTHONPATH: %s' % os.environ['PYTHONPATH'])
    if 'f1' in settings:
        report_random_503s(bench.runs, args)
    if 'f2' in settings:
        report_outage(bench.runs['f2'], args)
    if 'f3' in settings:
        report_chain(bench.runs['f3'], args)
    for problem in bench.broken:
        print('PROBLEM: ' + problem)
    return 1 if bench.broken else 0


# -- the server's side ------------------------------------------------------

class Server:
    """FakeCloud's `misbehave` hook: notes each VBS request as it arrives
    (monotonic time, kind, status if faulted) and answers the faults that
    `fault` picks, or the chain's refusals; None lets the fake answer.
    """

    def __init__(self, fault=None, chain=None):
        self.fault = fault or (lambda now, method, path: False)
        self.chain = chain
        self.arrivals = []  # (time, kind, status of a fault or None)
        self.lock = threading.Lock()

    def __call__(self, method, path):
        now = time.monotonic()
        kind = _kind(method, path)
        answer, status = None, None
        if self.fault(now, method, path):
            answer, status = GATEWAY_503, 503
        elif self.chain is not None:
            answer = self.chain.refusal(method, path)
            if answer is not None:
                status = answer.status
        with self.lock:
            self.arrivals.append((now, kind, status))
        return answer

    def count(self, kind=None, faulted=None):
        with self.lock:
            return sum(1 for _, k, status in self.arrivals
                       if kind in (None, k)
                       and faulted in (None, status is not None))

    def times(self, kind):
        with self.lock:
            return sorted(t for t, k, _ in self.arrivals if k == kind)


def _kind(method, path):
    """DELETE, GET (one backup), list, or other, of a VBS request path."""
    parts = [p for p in urllib.parse.urlsplit(path).path.split('/') if p]
    rest = parts[parts.index('backups') + 1:] if 'backups' in parts else None
    if rest is None:
        return 'other'
    if method == 'DELETE' and len(rest) == 1:
        return 'DELETE'
    if method == 'GET' and rest in ([], ['detail']):
        return 'list'
    if method == 'GET' and len(rest) == 1:
        return 'GET'
    return 'other'


class RandomPlan:
    """(f1): `rate` of the VBS requests faulted, from a seeded generator
    (tools/faultproxy.py's RandomFaults).
    """

    def __init__(self, rate, seed):
        self.pick = RandomFaults(rate, ['503-html'], seed=seed)

    def __call__(self, now, method, path):
        return self.pick(method, path, None) is not None


class Outage:
    """(f2): every VBS request faulted from `after` s past the first
    DELETE's arrival, for `duration` s.
    """

    def __init__(self, after, duration):
        self.after = after
        self.duration = duration
        self.start = self.end = None
        self.lock = threading.Lock()

    def __call__(self, now, method, path):
        with self.lock:
            if self.start is None and method == 'DELETE':
                self.start = now + self.after
                self.end = self.start + self.duration
        return self.start is not None and self.start <= now < self.end


class Chain:
    """(f3): Cinder's rule for a chain of backups, oldest first: the
    parent of each incremental backup is the one before it, and a backup
    that one of the chain still depends on cannot be deleted.
    """

    def __init__(self, cloud, ids):
        self.cloud = cloud
        self.parent = dict(zip(ids[1:], ids[:-1]))

    def refusal(self, method, path):
        """Cinder's 400 for a DELETE of a backup with dependents, else
        None; first, has_dependent_backups as what is left says.
        """
        backup_id = path.split('?')[0].rstrip('/').rsplit('/', 1)[-1]
        with self.cloud.lock:
            present = set(self.cloud.backups)
            parents = {self.parent[b] for b in present if b in self.parent}
            for chained in set(self.parent.values()) & present:
                self.cloud.backups[chained]['has_dependent_backups'] = (
                    chained in parents)
        if method == 'DELETE' and backup_id in parents:
            return hostile.Raw(
                400, recorded.incremental_backups_exist(),
                headers={'x-openstack-request-id': 'req-fault-bench'})
        return None


# -- the runs ---------------------------------------------------------------

class Result:
    """One CLI run and what the server saw of it."""

    def __init__(self, label, done, server, ids, cloud):
        self.label = label
        self.seconds = done.seconds
        self.returncode = done.returncode
        self.stopped = getattr(done, 'stopped', False)
        match = FAILED_LINE.search(done.stderr)
        if match:
            self.failed = int(match.group(1))
        elif self.stopped:
            self.failed = None  # not known: the run did not finish
        else:
            self.failed = 0 if done.returncode == 0 else len(ids)
        self.left = sum(1 for i in ids if i in cloud.backups)
        self.server = server
        self.count = len(ids)
        self.stderr = done.stderr


class Bench:

    def __init__(self):
        self.folder = None
        self.runs = {}   # setting or (f1, label) -> [Result per repeat]
        self.broken = []

    def random_503s(self, args, repeat):
        """(f1): clean and faulted, default and --parallel 8."""
        count = args.backups or F1_BACKUPS
        sides = [('clean default', [], None),
                 ('clean --parallel 8', P8, None),
                 ('faulted default', [], args.fault_rate),
                 ('faulted --parallel 8', P8, args.fault_rate)]
        if repeat % 2:
            sides.reverse()
        for label, options, rate in sides:
            plan = (RandomPlan(rate, args.seed + repeat)
                    if rate is not None else None)
            result = self.delete(label, count, options, Server(plan))
            self.runs.setdefault(('f1', label), []).append(result)
            if rate is None:
                self.check_clean(result)

    def outage(self, args):
        """(f2): the default through an outage."""
        plan = Outage(OUTAGE_AFTER, args.outage)
        result = self.delete(
            'outage default', args.backups or F2_BACKUPS, [], Server(plan),
            deadline=lambda: plan.end and plan.end + args.give_up)
        result.outage = (plan.start, plan.end)
        self.runs.setdefault('f2', []).append(result)

    def chain(self, args):
        """(f3): a 1 + chain incremental chain, named oldest first."""
        result = self.delete('chain default', args.chain + 1, [], Server(),
                             chain=True)
        self.runs.setdefault('f3', []).append(result)
        self.check_clean(result)

    def delete(self, label, count, options, server, chain=False,
               deadline=None):
        """A fresh fake cloud with `count` backups; one CLI deletes them
        all, their IDs on standard input (stopped at deadline(), if any).
        """
        with FakeCloud(misbehave=server) as cloud:
            # HTTP/1.0, a connection per request: socketserver's backlog
            # of 5 overflows when this machine is short of CPU, and a
            # dropped SYN costs the client a second (see memory.py).
            cloud.server.socket.listen(128)
            if chain:
                ids = _add_chain(cloud, count)
                server.chain = Chain(cloud, ids)
            else:
                ids = [cloud.add_backup('bench-fault-%04d' % n)
                       for n in range(count)]
            env, ids_file = common.fake_cloud_run(self.folder, cloud, ids)
            common.note('  %s: deleting %d backups' % (label, count))
            argv = [common.OPENSTACK] + DELETE + options
            if deadline:
                done = run_until(argv, env, str(ids_file), deadline)
            else:
                done = common.run(argv, env=env, stdin_path=str(ids_file))
            result = Result(label, done, server, ids, cloud)
        common.note('  %s: %.2f s, %d VBS requests (%d answered 503 or 400 '
                    'by the benchmark), exit %d%s'
                    % (label, done.seconds, server.count(),
                       server.count(faulted=True), done.returncode,
                       ' (stopped)' if result.stopped else ''))
        if result.failed or result.left or result.stopped:
            common.note('  %s: %s failed, %d left: %s' % (
                label, result.failed, result.left, done.stderr[-600:]))
        return result

    def check_clean(self, result):
        if result.returncode or result.left:
            self.broken.append('%s: exit %d, %d of %d backups left; %s' % (
                result.label, result.returncode, result.left, result.count,
                result.stderr[-600:]))


def run_until(argv, env, stdin_path, deadline):
    """common.run (without the peak RSS), but once deadline() - a
    monotonic time, or None while unknown - has passed, the child gets
    SIGINT (Ctrl-C: finish what is in flight), a second one 2 s later
    (abort), and SIGKILL 5 s later.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            open(stdin_path, 'rb') as stdin:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdin=stdin, stdout=out,
                                 stderr=err)
        stopped, signals = None, [(2.0, signal.SIGINT),
                                  (5.0, signal.SIGKILL)]
        while True:
            try:
                child.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            when = deadline()
            if stopped is None and when and now > when:
                stopped = now
                child.send_signal(signal.SIGINT)
            elif stopped and signals and now > stopped + signals[0][0]:
                child.send_signal(signals.pop(0)[1])
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        done = common.Run(argv, elapsed, child.returncode,
                          out.read().decode(errors='replace'),
                          err.read().decode(errors='replace'), 0)
    done.stopped = stopped is not None
    return done


def _add_chain(cloud, count):
    """A full backup and count - 1 incremental ones of one volume, a
    minute apart; their IDs, oldest first.
    """
    volume_id = cloud.add_volume('bench-chain-volume')
    ids = []
    for n in range(count):
        made = (CHAIN_START + datetime.timedelta(minutes=n)).isoformat()
        ids.append(cloud.add_backup(
            'bench-chain-%03d' % n, volume_id=volume_id,
            is_incremental=n > 0, has_dependent_backups=n < count - 1,
            created_at=made + '.000000', data_timestamp=made + '.000000',
            updated_at=made + '.000000'))
    return ids


# -- the report -------------------------------------------------------------

def _met(ok):
    return 'MET' if ok else 'NOT MET'


def _requests(results):
    """'DELETE / GET / list' at the server, medians of the runs."""
    return ' / '.join('%d' % common.median([r.server.count(kind)
                                            for r in results])
                      for kind in KINDS[:3])


def _outcome(results):
    return '%d / %d' % (common.median([r.failed for r in results]),
                        common.median([r.left for r in results]))


def _f1_row(label, results):
    return (label, common.seconds(common.median([r.seconds
                                                 for r in results])),
            common.spread([r.seconds for r in results]),
            _requests(results),
            '%d' % common.median([r.server.count(faulted=True)
                                  for r in results]),
            _outcome(results))


def _paired(runs, label, baseline):
    """The median over repeats of label's wall time over baseline's (the
    two ran next to each other in every repeat).
    """
    return common.median([
        ours.seconds / base.seconds
        for ours, base in zip(runs[('f1', label)], runs[('f1', baseline)])])


def report_random_503s(runs, args):
    labels = ('clean default', 'clean --parallel 8', 'faulted default',
              'faulted --parallel 8')
    common.print_table(
        '(f1) %g%% random 503s (HTML, no Retry-After), %d backups, '
        'median of %d' % (100 * args.fault_rate, args.backups or F1_BACKUPS,
                          args.repeat),
        ('run', 'wall time', 'spread', 'DELETE / GET / list', '503s',
         'failed / left'),
        [_f1_row(label, runs[('f1', label)])
         for label in labels])
    to_clean = _paired(runs, 'faulted default', 'clean default')
    to_p8 = _paired(runs, 'faulted default', 'faulted --parallel 8')
    print('faulted default / clean default: %.2f    faulted default / '
          'faulted --parallel 8: %.2f (medians of the repeats\' own '
          'ratios)' % (to_clean, to_p8))
    print('target: (f1) faulted default <= 1.5 x clean default: %s'
          % _met(to_clean <= 1.5))
    print('target: (f1) faulted default <= 1.25 x faulted --parallel 8: %s'
          % _met(to_p8 <= 1.25))


def recovery(deletes, start, end, window=WINDOW):
    """(pre-outage rate per s, seconds from the outage's end to the first
    DELETE of the first window holding RECOVERED of that rate, or None).

    deletes: arrival times, sorted. Candidate windows start at the end,
    or where a window's right edge reaches a DELETE (the count only grows
    there). A window reaching past the run's last DELETE does not count:
    the work ran out, not the rate.
    """
    before = (bisect.bisect_left(deletes, start)
              - bisect.bisect_left(deletes, start - window))
    rate = before / window
    last = deletes[-1] if deletes else end
    starts = [end] + [t - window for t in deletes if t - window > end]
    for begin in starts:
        if begin + window > last:
            break
        first = bisect.bisect_left(deletes, begin)
        inside = bisect.bisect_right(deletes, begin + window) - first
        if inside and inside >= RECOVERED * rate * window:
            return rate, deletes[first] - end
    return rate, None


def report_outage(results, args):
    rows, recoveries = [], []
    for number, result in enumerate(results, 1):
        deletes = result.server.times('DELETE')
        start, end = result.outage
        if start is None:
            rows.append(('%d' % number, common.seconds(result.seconds),
                         'no DELETE arrived', '', '', '', ''))
            recoveries.append(float('inf'))
            continue
        rate, took = recovery(deletes, start, end)
        after = len(deletes) - bisect.bisect_left(deletes, end)
        recoveries.append(float('inf') if took is None else took)
        if took is not None:
            shown = common.seconds(took)
        elif result.stopped:
            shown = 'not within %g s' % args.give_up
        else:
            shown = 'not before the end'
        rows.append((
            '%d' % number,
            common.seconds(result.seconds) + (
                ' (stopped)' if result.stopped else ''),
            '%.0f /s' % rate,
            '%d' % result.server.count(faulted=True),
            '%d' % after, shown,
            '%s / %d' % ('?' if result.failed is None else result.failed,
                         result.left)))
    common.print_table(
        '(f2) a %g s outage (every VBS request 503), %g s after the first '
        'DELETE; default, %d backups; %g s windows'
        % (args.outage, OUTAGE_AFTER, args.backups or F2_BACKUPS, WINDOW),
        ('run', 'wall time', 'pre-outage rate', '503s',
         'DELETEs after', 'recovery', 'failed / left'), rows)
    took = common.median(recoveries)
    print('recovery (median): %s' % (
        'not recovered' if took == float('inf') else common.seconds(took)))
    if any(r.stopped for r in results):
        print('(stopped: runs still going %g s after the outage were '
              'interrupted; "left" counts what they never deleted)'
              % args.give_up)
    print('target: (f2) back to %d%% of the pre-outage rate within 2 s of '
          'the outage\'s end: %s' % (100 * RECOVERED, _met(took <= 2.0)))


def report_chain(results, args):
    count = args.chain + 1
    per_backup = common.median([
        sum(r.server.count(kind) for kind in KINDS[:3]) / count
        for r in results])
    common.print_table(
        '(f3) a 1+%d incremental chain, named oldest first; default, '
        'median of %d' % (args.chain, args.repeat),
        ('run', 'wall time', 'spread', 'DELETE / GET / list',
         'per backup', 'failed / left'),
        [('chain default',
          common.seconds(common.median([r.seconds for r in results])),
          common.spread([r.seconds for r in results]),
          _requests(results), '%.2f' % per_backup, _outcome(results))])
    left = max(r.left for r in results)
    print('target: (f3) VBS requests per backup <= 3: %s (%.2f%s)'
          % (_met(per_backup <= 3 and not left), per_backup,
             ', %d backups left' % left if left else ''))


if __name__ == '__main__':
    sys.exit(main())
