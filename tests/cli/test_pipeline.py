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

"""The request pipeline's promises (issue 15), end to end.

The real `openstack` executable against FakeCloud made to answer as a
struggling, throttling, chain-keeping or token-expiring server does. Each
test checks at the server what arrived and when (FakeCloud records every
request's arrival on time.monotonic(), the clock this process reads too),
not only the exit status.
"""

import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from tests.cli.fake_cloud import FakeCloud
from tests.cli import hostile
from tests.cli.test_openstack_shell import OPENSTACK
from vbsclient.osc import signals

# What a backup whose deletion the server accepted ends as.
DONE = ('deleted', 'gone')
# Cinder's 500 body, as its API sends it for an unexpected error.
SERVER_ERROR = hostile.cinder_error(
    500, 'computeFault', 'The server has either erred or is incapable of '
    'performing the requested operation.')


# -- running the real executable ----------------------------------------------

class Result:
    """How a run ended: returncode, stdout, stderr, seconds, and rows
    (with -f json; None when stdout holds none).
    """

    def __init__(self, process, out, err, seconds):
        self.returncode = process.returncode
        self.stdout = out
        self.stderr = err
        self.seconds = seconds
        try:
            self.rows = json.loads(out) if out.strip() else None
        except ValueError:
            self.rows = None

    def tail(self, lines=15):
        """The end of stderr, for an assertion's message."""
        return '\n'.join(self.stderr.splitlines()[-lines:])


def start(cloud, tmp_path, *argv, ids=None, prefix=()):
    """Start `openstack --os-cloud fake *argv` against the cloud; `ids`,
    if given, are its standard input, one a line; `prefix` runs it (e.g.
    under GNU timeout).
    """
    config = tmp_path / 'clouds.yaml'
    config.write_text(cloud.clouds_yaml())
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['OS_CLIENT_CONFIG_FILE'] = str(config)
    stdin = subprocess.DEVNULL
    if ids is not None:
        listing = tmp_path / ('ids-%s' % uuid.uuid4().hex)
        listing.write_text(''.join('%s\n' % i for i in ids))
        stdin = open(listing)
    try:
        process = subprocess.Popen(
            [*prefix, OPENSTACK, '--os-cloud', 'fake', *argv], stdin=stdin,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)
    finally:
        if ids is not None:
            stdin.close()
    process.started = time.monotonic()
    return process


def finish(process, timeout):
    """Wait for the run (at most `timeout` s: past that it counts as
    hanging, is killed, and the test fails).
    """
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail('the run did not end within %g s (killed); stderr '
                    'ends:\n%s' % (timeout, err[-2000:]))
    result = Result(process, out, err, time.monotonic() - process.started)
    assert 'Traceback' not in err, err[-3000:]
    return result


def run(cloud, tmp_path, *argv, ids=None, timeout=60):
    return finish(start(cloud, tmp_path, *argv, ids=ids), timeout)


def delete(cloud, tmp_path, *argv, ids=None, timeout=60):
    """`vbs backup delete -f json *argv`, backups from stdin if `ids`."""
    stdin = ('-',) if ids is not None else ()
    return run(cloud, tmp_path, 'vbs', 'backup', 'delete', '-f', 'json',
               *argv, *stdin, ids=ids, timeout=timeout)


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, 'the run never got that far'
        time.sleep(0.01)


def deletes(cloud):
    return [r for r in cloud.vbs_requests() if r.method == 'DELETE']


def backup_of(path):
    """The last segment of a request's path: a backup's ID."""
    return path.split('?')[0].rstrip('/').rsplit('/', 1)[-1]


def assert_all_deleted(result, backups, left):
    """Exit 0, one row per backup in order, each done and gone."""
    assert result.returncode == 0, result.tail()
    assert result.rows is not None, result.tail()
    assert [r['ID'] for r in result.rows] == backups
    failed = [r for r in result.rows if r['Result'] not in DONE]
    assert not failed, failed[:5]
    assert not left & set(backups), '%d backups are still there' % len(
        left & set(backups))


# -- 1. random 503s and an outage: retried, without a collapse of the rate ----

@pytest.mark.parametrize('rate, count, bound', [
    (0.01, 100, 15), (0.05, 100, 15), (0.10, 150, 20), (0.20, 200, 30)],
    ids=['1%', '5%', '10%', '20%'])
def test_random_503s_are_retried_without_a_collapse(tmp_path, rate, count,
                                                    bound):
    seconds = {}
    for parallel in ('default', '8'):
        with FakeCloud() as cloud:
            backups = [cloud.add_backup('b%d' % n) for n in range(count)]
            faults = hostile.Random503(rate, seed=int(rate * 100))
            cloud.misbehave = faults
            options = () if parallel == 'default' else ('--parallel', '8')
            # 8 retries: at 20 %, 9 faults in a row for one request are
            # too rare to matter; what is measured is the time.
            result = delete(cloud, tmp_path, '--retries', '8', *options,
                            ids=backups, timeout=bound + 30)
            left = cloud.remaining()
        assert_all_deleted(result, backups, left)
        if rate >= 0.05:
            assert faults.faulted >= count * rate / 3, faults.faulted
        seconds[parallel] = result.seconds
    # The old pipeline took over 150 s at 20 % for 200 backups: it took
    # every 503 for throttling and cut its rate each time.
    assert seconds['default'] < bound, seconds
    assert seconds['default'] <= 2 * seconds['8'], seconds


def test_after_an_outage_the_rate_comes_back(tmp_path):
    with FakeCloud() as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(300)]
        outage = hostile.Outage(3.0, after=100)
        cloud.misbehave = outage
        result = delete(cloud, tmp_path, '--retries', '8', ids=backups,
                        timeout=60)
        left = cloud.remaining()
        requests = cloud.vbs_requests()
    assert_all_deleted(result, backups, left)
    assert outage.started is not None, 'the outage never began'
    # When each backup's first DELETE arrived: the rate at which the run
    # takes up new backups, apart from the retries of those it has.
    first = {}
    for request in requests:
        if request.method == 'DELETE':
            first.setdefault(backup_of(request.path), request.at)
    before = sorted(t for t in first.values() if t < outage.started)
    after = sorted(t for t in first.values() if t >= outage.ended)
    assert len(before) >= 20 and len(after) >= 50, (
        len(before), len(after))
    rate_before = (len(before) - 1) / (before[-1] - before[0])
    rate_after = (len(after) - 1) / max(after[-1] - after[0], 1e-3)
    # The old pipeline crawled at 0.1 a second after an outage, growing
    # a tenth a round.
    assert rate_after >= 0.5 * rate_before, (rate_before, rate_after)
    # Nor does the run sit idle long once the server answers again.
    assert after[0] - outage.ended < 5, after[0] - outage.ended
    assert result.seconds < 30


# -- 2. malformed Retry-After: never a hang, never a crash --------------------

MALFORMED = ['\u00b2', '1.5', '-3', 'soon', '']
# Well-formed, but far beyond any wait worth making: capped.
HUGE = ['9' * 40, 'Fri, 31 Dec 9999 23:59:59 GMT']


def test_malformed_retry_after_on_a_202_is_ignored(tmp_path):
    with FakeCloud() as cloud:
        backups = {cloud.add_backup('ra-%d' % n): value
                   for n, value in enumerate(MALFORMED + HUGE)}

        def headers(method, path, status):
            return {'Retry-After': backups.get(backup_of(path), 'soon')}

        cloud.answer_headers = headers
        result = delete(cloud, tmp_path, *backups, timeout=30)
        left = cloud.remaining()
    assert_all_deleted(result, list(backups), left)
    assert result.seconds < 15
    # One DELETE each: an accepted delete is not sent again.
    assert sorted(backup_of(r.path) for r in deletes(cloud)) == \
        sorted(backups)


def throttled_once(backup, value):
    """A hook: the backup's first DELETE answered 429 with Retry-After
    `value`; every other request passes.
    """
    first = hostile.FirstAttempts(hostile.throttled(value))

    def misbehave(method, path):
        return first(method, path) if backup_of(path) == backup else None
    return misbehave


@pytest.mark.parametrize('value', MALFORMED,
                         ids=['superscript-2', 'fraction', 'negative',
                              'word', 'empty'])
def test_a_429_with_a_malformed_retry_after_is_retried(tmp_path, value):
    with FakeCloud() as cloud:
        throttled = cloud.add_backup('throttled')
        others = [cloud.add_backup('other-%d' % n) for n in range(2)]
        cloud.misbehave = throttled_once(throttled, value)
        result = delete(cloud, tmp_path, *others, throttled, timeout=40)
        left = cloud.remaining()
        sent = deletes(cloud)
    assert_all_deleted(result, others + [throttled], left)
    attempts = [r for r in sent if backup_of(r.path) == throttled]
    assert [r.status for r in attempts] == [429, 202]
    # Retried with back-off: not at once, whatever the header said.
    assert attempts[1].at - attempts[0].at >= 0.1
    assert result.seconds < 15


@pytest.mark.parametrize('value', HUGE, ids=['40-digits', 'year-9999'])
def test_a_huge_retry_after_on_a_429_does_not_hang_the_run(tmp_path, value):
    with FakeCloud() as cloud:
        throttled = cloud.add_backup('throttled')
        others = [cloud.add_backup('other-%d' % n) for n in range(2)]
        cloud.misbehave = throttled_once(throttled, value)
        # Each backup may take 3 x (0.5 + 1) s in all, retries included.
        result = delete(cloud, tmp_path, '--connect-timeout', '0.5',
                        '--read-timeout', '1', throttled, *others,
                        timeout=40)
        left = cloud.remaining()
        sent = deletes(cloud)
    assert result.returncode in (0, 1), result.tail()
    assert result.rows is not None, result.tail()
    assert [r['ID'] for r in result.rows] == [throttled] + others
    for row in result.rows:
        assert row['Result'] in DONE + ('failed',), row
        assert (row['Result'] in DONE) == (row['ID'] not in left), row
    assert len([r for r in sent if backup_of(r.path) == throttled]) <= 2
    # The capped wait (a minute) is cut at the backups' time budgets.
    assert result.seconds < 12, result.seconds


# -- 3. signals: stop sending at once, account for every backup ---------------

STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def interrupted_run(tmp_path, signum, throttling, twice=False):
    """A 400-backup run, signalled mid-way (twice at once: as GNU timeout
    and a kill of the process group deliver it); (result, backups, the
    signal's time, the requests, the backups left).
    """
    with FakeCloud(delete_delay=0.05) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(400)]
        # Mid-way: 20 deleted.
        enough = {202: 20}
        if throttling:
            # Three DELETEs in four throttled (429, Retry-After: 1),
            # however slowly they come: signalled after the second, the
            # run is in a Retry-After wait.
            cloud.misbehave = hostile.Random503(
                0.75, seed=3, methods={'DELETE'},
                answer=hostile.throttled('1'))
            enough = {429: 2}
        process = start(cloud, tmp_path, 'vbs', 'backup', 'delete', '-f',
                        'json', '-', ids=backups)
        try:
            wait_for(lambda: all(
                len([r for r in deletes(cloud) if r.status == status]) >= n
                for status, n in enough.items()))
            sent = time.monotonic()
            process.send_signal(signum)
            if twice:
                time.sleep(0.02)
                process.send_signal(signum)
        finally:
            if process.poll() is None and 'sent' not in locals():
                process.kill()
                process.communicate()
        result = finish(process, timeout=30)
        requests = cloud.vbs_requests()
        left = cloud.remaining()
    return result, backups, sent, requests, left


def check_interrupted(result, backups, sent, requests, left, signum):
    late = [(r.method, round(r.at - sent, 3)) for r in requests
            if r.at > sent + 0.5]
    assert result.returncode == STATUS[signum], (result.returncode,
                                                 result.tail())
    # Requests in flight may end; none may start after the signal.
    assert not late, late[:10]
    assert result.rows is not None, result.tail()
    assert [r['ID'] for r in result.rows] == backups  # each once
    results = [r['Result'] for r in result.rows]
    for row in result.rows:
        assert (row['Result'] in DONE) == (row['ID'] not in left), row
    assert 'not-attempted' in results
    summary = 'Interrupted: of %d backups' % len(backups)
    assert any(line.startswith(summary)
               for line in result.stderr.splitlines()), result.tail()
    # The first signal says how to abort: the same signal again, but
    # after a second (a repeat sooner is the same stop delivered twice).
    name = 'Ctrl-C' if signum == signal.SIGINT else signum.name
    assert 'finishing the requests in flight (%s again after a second to ' \
        'abort)' % name in result.stderr, result.tail()


@pytest.mark.parametrize('throttling', [False, True],
                         ids=['default', 'throttled'])
@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_signal_stops_the_run_within_half_a_second(tmp_path, signum,
                                                     throttling):
    check_interrupted(*interrupted_run(tmp_path, signum, throttling),
                      signum)


def test_the_same_signal_twice_at_once_is_one_stop(tmp_path):
    result = interrupted_run(tmp_path, signal.SIGTERM, False, twice=True)
    check_interrupted(*result, signal.SIGTERM)
    assert 'aborting now' not in result[0].stderr


def test_gnu_timeout_stops_the_run_and_every_backup_is_reported(tmp_path):
    # timeout sends SIGTERM to the command and to its process group: one
    # stop, not a stop and an abort.
    with FakeCloud(delete_delay=0.5) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(400)]
        result = finish(start(cloud, tmp_path, 'vbs', 'backup', 'delete',
                              '-f', 'json', '-', ids=backups,
                              prefix=('timeout', '4')), timeout=30)
        left = cloud.remaining()
    assert result.returncode == 124, result.tail()  # timeout's own status
    assert 'aborting now' not in result.stderr
    assert [r['ID'] for r in result.rows] == backups
    for row in result.rows:
        assert (row['Result'] in DONE) == (row['ID'] not in left), row
    assert 'Interrupted: of 400 backups' in result.stderr


def test_sighup_stops_the_run_with_129(tmp_path):
    check_interrupted(*interrupted_run(tmp_path, signal.SIGHUP, False),
                      signal.SIGHUP)


@pytest.mark.parametrize('signum', [signal.SIGINT, signal.SIGTERM],
                         ids=['SIGINT', 'SIGTERM'])
def test_a_second_signal_ends_the_process_at_once(tmp_path, signum):
    with FakeCloud() as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(20)]
        # DELETEs that get no answer for 10 s: the first signal waits for
        # them, the second must not.
        cloud.misbehave = lambda method, path: \
            hostile.Hang(10) if method == 'DELETE' else None
        process = start(cloud, tmp_path, 'vbs', 'backup', 'delete',
                        '--parallel', '4', '-f', 'json', '-', ids=backups)
        try:
            wait_for(lambda: len(deletes(cloud)) >= 4)
            process.send_signal(signum)
            # Past the window in which a repeat is the same delivery.
            time.sleep(signals.SAME_SIGNAL_WINDOW + 0.2)
            assert process.poll() is None, \
                'the first signal ended the process: it must finish the run'
            second = time.monotonic()
            process.send_signal(signum)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pytest.fail('still running 10 s after the second signal')
            ended = time.monotonic()
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()
    assert ended - second < 2, ended - second
    assert process.returncode in (STATUS[signum], -signum), \
        process.returncode


# -- 4. a rerun over backups already being deleted ----------------------------

def test_a_rerun_over_backups_deleting_counts_them_deleted(tmp_path):
    with FakeCloud(delete_duration=60) as cloud:
        backups = [cloud.add_backup('rerun-%d' % n) for n in range(6)]
        first = delete(cloud, tmp_path, *backups)
        assert first.returncode == 0, first.tail()
        rerun = delete(cloud, tmp_path, *backups)
        statuses = {cloud.backups[b]['status'] for b in backups}
    assert statuses == {'deleting'}  # still: Cinder refuses a new DELETE
    assert rerun.returncode == 0, rerun.tail()
    assert [r['ID'] for r in rerun.rows] == backups
    for row in rerun.rows:
        assert row['Result'] == 'deleted', row
        assert re.search(r'already|being deleted|deleting', row['Reason'],
                         re.I), row
        assert '--force' not in row['Reason'], row
    assert '--force' not in rerun.stderr


def test_a_rerun_with_wait_over_backups_deleting_sees_them_gone(tmp_path):
    # Deletions that take long enough for the rerun's process to start
    # and meet them deleting on a busy machine (a CI run's, with the local
    # cloud beside it: 2 s was too short there).
    with FakeCloud(delete_duration=8.0) as cloud:
        backups = [cloud.add_backup('rerun-%d' % n) for n in range(3)]
        first = delete(cloud, tmp_path, *backups)
        assert first.returncode == 0, first.tail()
        # And some that another run (or the console) set deleting.
        seeded = [cloud.add_deleting('seeded-%d' % n, vanish_after=5.0)
                  for n in range(3)]
        vanishing = min(cloud.vanish_at.values())
        before = len(cloud.requests)
        rerun = delete(cloud, tmp_path, '--wait', '--timeout', '30',
                       *backups, *seeded, timeout=40)
        rerun_requests = [r for r in cloud.requests[before:]
                          if r.path.startswith('/vbs/')]
        left = cloud.remaining()
    # The rerun met every backup still deleting (else this machine is too
    # slow for the test to prove anything).
    assert rerun_requests[0].at < vanishing - 0.5
    assert rerun.returncode == 0, rerun.tail()
    assert [r['ID'] for r in rerun.rows] == backups + seeded
    assert [r['Result'] for r in rerun.rows] == ['gone'] * 6, rerun.rows
    assert not left
    assert '--force' not in rerun.stdout + rerun.stderr
    assert rerun.seconds < 20


# -- 5. a dry run that cannot check a backup's dependents ---------------------

def test_a_dry_run_that_cannot_list_the_chain_fails_that_backup(tmp_path):
    with FakeCloud(chains=True) as cloud:
        chain = cloud.add_chain(2, name='dry')
        with_dependents = [b for b in chain if cloud.dependents(b)]
        assert with_dependents == chain[:2]

        def misbehave(method, path):
            # Every backup list (the volume's says what depends on what);
            # a backup's own record still comes.
            if method == 'GET' and ('/backups/detail' in path
                                    or '/backups?' in path):
                return SERVER_ERROR
            return None
        cloud.misbehave = misbehave
        result = delete(cloud, tmp_path, '--dry-run', *chain)
        sent = [r for r in cloud.vbs_requests() if r.method != 'GET']
        left = cloud.remaining()
    assert result.returncode == 1, result.tail()
    rows = {r['ID']: r for r in result.rows}
    assert set(rows) == set(chain)
    for backup in with_dependents:
        assert rows[backup]['Result'] == 'failed', rows[backup]
        assert '500' in rows[backup]['Reason'], rows[backup]
    assert not sent  # no DELETE, no action
    assert left == set(chain)


# -- 6. a long chain named oldest first ---------------------------------------

def test_a_long_chain_named_oldest_first_costs_few_requests(tmp_path):
    # The server deletes at once (delete_duration 0): what is counted is
    # the client's requests, not how often it polls.
    with FakeCloud(delete_duration=0, chains=True) as cloud:
        chain = cloud.add_chain(50, name='long')
        result = delete(cloud, tmp_path, ids=chain, timeout=60)
        left = cloud.remaining()
        requests = cloud.vbs_requests()
    assert_all_deleted(result, chain, left)
    kinds = {}
    for request in requests:
        kind = request.method if '?' not in request.path else 'list'
        kinds[kind] = kinds.get(kind, 0) + 1
    # DELETEs, GETs and lists together.
    assert len(requests) <= 3 * len(chain), kinds
    assert result.seconds < 30


# -- 7. tokens that expire during the run -------------------------------------

def test_short_lived_tokens_at_parallel_32(tmp_path):
    lifetime = 0.4
    # Each DELETE takes 0.2 s: the run lasts several token lifetimes.
    with FakeCloud(token_lifetime=lifetime, delete_delay=0.2) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(200)]
        result = delete(cloud, tmp_path, '--parallel', '32', ids=backups,
                        timeout=60)
        left = cloud.remaining()
        issued, rejected = len(cloud.tokens_issued), cloud.tokens_rejected
    assert_all_deleted(result, backups, left)
    assert rejected, 'no token expired during the run: it proves nothing'
    assert issued <= 2 * result.seconds / lifetime + 3, (
        issued, result.seconds)


# -- 8. a failed name lookup keeps the argument -------------------------------

def test_a_failed_lookup_shows_the_argument_as_typed(tmp_path):
    with FakeCloud() as cloud:
        real = cloud.add_backup('Real backup')
        missing = str(uuid.uuid4())

        def misbehave(method, path):
            if method == 'GET' and 'name=Broken' in path:
                return SERVER_ERROR
            return None
        cloud.misbehave = misbehave
        named = ['No such backup', 'Broken lookup', missing, 'Real backup']
        result = delete(cloud, tmp_path, *named)
        left = cloud.remaining()
    assert result.returncode == 1, result.tail()
    assert [r['Result'] for r in result.rows] == ['failed'] * 3 + ['deleted']
    nothing, broken, unknown, deleted = result.rows
    assert nothing['Name'] == 'No such backup', nothing
    assert broken['Name'] == 'Broken lookup', broken
    assert '500' in broken['Reason'], broken
    assert unknown['ID'] == missing, unknown
    assert (deleted['ID'], deleted['Name']) == (real, 'Real backup')
    assert real not in left
