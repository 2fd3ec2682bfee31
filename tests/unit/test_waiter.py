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

"""Waiting until gone (vbsclient.api.waiter), for --wait and for chains.
"""

import collections

from tests.unit.conftest import A
from tests.unit.conftest import B
from tests.unit.conftest import backup_url
from tests.unit.conftest import NOT_FOUND
from tests.unit.deleting import bulk_delete
from tests.unit.deleting import delete
from tests.unit.deleting import FakeClock
from tests.unit.deleting import methods
from tests.unit.deleting import results
from vbsclient.api import errors
from vbsclient.api.outcome import Result
from vbsclient.api import run as runs
from vbsclient.api import waiter


def test_wait_returns_when_every_backup_is_gone(client, cloud):
    clock = FakeClock()
    cloud.delete(backup_url(A), status_code=202)
    cloud.delete(backup_url(B), status_code=202)
    cloud.get(backup_url(A), [
        {'json': {'backup': {'id': A, 'status': 'deleting'}}},
        {'status_code': 404, 'json': NOT_FOUND}])
    cloud.get(backup_url(B), [
        {'json': {'backup': {'id': B, 'status': 'deleting'}}},
        {'json': {'backup': {'id': B, 'status': 'deleting'}}},
        {'status_code': 404, 'json': NOT_FOUND}])
    outcomes = delete(client, [A, B], wait=True, clock=clock)
    assert results(outcomes) == [(A, 'gone'), (B, 'gone')]
    assert clock.sleeps == [1.0, 2.0]  # back-off, not a busy loop


def test_wait_reports_error_deleting_as_a_failure(client, cloud):
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(backup_url(A), json={'backup': {'status': 'error_deleting'}})
    [outcome] = delete(client, [A], wait=True)
    assert outcome.failed
    assert 'error_deleting' in outcome.reason


def test_wait_gives_up_at_the_timeout(client, cloud):
    clock = FakeClock()
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(backup_url(A), json={'backup': {'status': 'deleting'}})
    [outcome] = delete(client, [A], wait=True, timeout=30, clock=clock)
    assert outcome.failed
    assert outcome.reason == 'still deleting after 30 seconds (timeout)'
    assert clock.now == 30
    assert max(clock.sleeps) <= 10


def test_wait_does_not_poll_backups_whose_delete_failed(client, cloud):
    cloud.delete(backup_url(A), status_code=400, json={'badRequest': {
        'message': 'Invalid backup: Backup status must be available or '
                   'error', 'code': 400}})
    cloud.get(backup_url(A), json={'backup': {'id': A, 'status': 'error'}})
    [outcome] = delete(client, [A], wait=True)
    assert outcome.failed and 'must be available or error' in outcome.reason
    # One GET, to tell "being deleted already" from a real refusal.
    assert methods(cloud) == ['DELETE', 'GET']


def test_an_interrupted_wait_keeps_accepted_deletes_as_deleted(client,
                                                               cloud):
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(backup_url(A), json={'backup': {'status': 'deleting'}})
    clock = FakeClock()

    def sleep(seconds):
        bulk.run_context.stop()  # Ctrl-C while waiting
        clock.sleep(seconds)

    bulk = bulk_delete(client, timeout=600, sleep=sleep, clock=clock)
    [outcome] = bulk.run([A], wait=True)
    assert outcome.result == 'deleted'
    assert outcome.reason == 'interrupted before it was seen gone'


# -- until_gone on its own: a simulated clock and a scripted server ----------

class ScriptedClient:
    """GETs answered from a script: {ID: [what each poll sees]}, each a
    status, 'gone' (the API's 404), or an exception to raise; the last
    entry repeats. Polls are counted per ID.
    """

    budget = 60

    def __init__(self, script):
        self.script = {i: list(seen) for i, seen in script.items()}
        self.polls = collections.Counter()

    def bound(self, pipeline=None, deadline=None):
        return self

    def get(self, backup_id):
        seen = self.script[backup_id]
        self.polls[backup_id] += 1
        now = seen.pop(0) if len(seen) > 1 else seen[0]
        if now == 'gone':
            raise errors.NotFound(404, 'Backup %s could not be found.'
                                  % backup_id)
        if isinstance(now, Exception):
            raise now
        return {'id': backup_id, 'status': now}


def waiting_run(script, timeout=60, parallel=2):
    clock = FakeClock()
    client = ScriptedClient(script)
    run = runs.Run(client, parallel=parallel, timeout=timeout,
                   sleep=clock.sleep, clock=clock)
    return run, client, clock


def test_rounds_pause_with_back_off_until_every_backup_ended():
    run, client, clock = waiting_run({
        'a': ['deleting', 'gone'], 'b': ['deleting'] * 5 + ['gone']})
    waited = waiter.until_gone(run, ['a', 'b'])
    assert {i: e.result for i, e in waited.ends.items()} == {
        'a': Result.GONE, 'b': Result.GONE}
    assert waited.pending == {}
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0]  # doubling, capped
    assert waited.ended_at == {'a': 1.0, 'b': 25.0}
    assert client.polls == {'a': 2, 'b': 6}  # an ended backup is not polled


def test_error_deleting_ends_a_backup_at_once_as_failed():
    run, _, _ = waiting_run({'a': ['error_deleting']})
    waited = waiter.until_gone(run, ['a'])
    assert waited.ends['a'].result is Result.FAILED
    assert 'error_deleting' in waited.ends['a'].reason


def test_a_failed_poll_never_ends_the_wait():
    run, client, _ = waiting_run({'a': [
        errors.TransportError('connection reset'),
        errors.ApiError(500, 'oops'), 'gone']})
    waited = waiter.until_gone(run, ['a'])
    assert waited.ends['a'].result is Result.GONE
    assert client.polls['a'] == 3


def test_the_wait_ends_at_the_runs_deadline_with_what_was_last_seen():
    run, _, clock = waiting_run({
        'a': ['deleting'], 'b': [errors.TransportError('timed out')]},
        timeout=20)
    waited = waiter.until_gone(run, ['a', 'b'])
    assert waited.ends == {}
    assert waited.pending == {'a': 'deleting',
                              'b': 'unknown (timed out)'}
    assert clock.now == 20  # the last pause is cut to the deadline
    # Later waits of the run share what is left: none.
    again = waiter.until_gone(run, ['a'])
    assert again.pending == {'a': 'deleting'} and clock.now == 20


def test_a_stop_ends_the_wait_and_no_poll_follows_it():
    clock = FakeClock()
    client = ScriptedClient({'a': ['deleting']})

    def sleep(seconds):  # Ctrl-C while the wait pauses
        run.stop()
        clock.sleep(seconds)
    run = runs.Run(client, sleep=sleep, clock=clock)
    waited = waiter.until_gone(run, ['a'])
    assert waited.pending == {'a': 'deleting'}
    assert client.polls['a'] == 1
