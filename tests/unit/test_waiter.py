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

import pytest

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
    assert clock.sleeps == [1.0, 2.0, 2.0, 2.0]  # a steady pace, not busy


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

    def list(self, **filters):
        # A server without a backup list: every round is a GET each.
        self.polls['list'] += 1
        raise errors.ApiError(404, 'no list here')

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


def test_rounds_come_at_a_steady_pace_until_every_backup_ended():
    run, client, clock = waiting_run({
        'a': ['deleting', 'gone'], 'b': ['deleting'] * 5 + ['gone']})
    waited = waiter.until_gone(run, ['a', 'b'])
    assert {i: e.result for i, e in waited.ends.items()} == {
        'a': Result.GONE, 'b': Result.GONE}
    assert waited.pending == {}
    assert clock.sleeps == [1.0] + [2.0] * 6  # steady
    # A list that failed is not asked for again in the run; then one
    # backup a round, in turn (a at 1 s, b at 3 s, a at 5 s: gone, so b
    # too), then b alone.
    assert waited.ended_at == {'a': 5.0, 'b': 13.0}
    assert client.polls == {'list': 1, 'a': 2, 'b': 6}


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
    assert waited.pending == {'a': None}
    assert client.polls == {}  # the first round comes after the pause


# -- which requests a round makes (plan_round, pure) ------------------------

def sightings(volumes=(), pages=()):
    known = waiter.Sightings()
    known.volumes.update(volumes)
    known.pages.update(pages)
    return known


P = waiter.PROJECT
TOO_LONG = waiter.TOO_LONG


@pytest.mark.parametrize('ids, volumes, pages, lists, gets', [
    # Nothing known: one backup is a GET; more try the project's list,
    # one page (a guess) at most.
    (['a'], {}, {}, (), ('a',)),
    (['a', 'b'], {}, {}, ((P, 1),), ()),
    (list('abcdef'), {}, {}, ((P, 1),), ()),
    # A project list known to take 3 pages: worth it only for 4 or more,
    # allowed one page fewer than the GETs it replaces.
    (list('abc'), {}, {P: 3}, (), tuple('abc')),
    (list('abcd'), {}, {P: 3}, ((P, 3),), ()),
    (list('abcdefghij'), {}, {P: 3}, ((P, 9),), ()),
    # A project list too long: by volume where two or more share one,
    # a GET for the rest.
    (list('abcd'), {'a': 'v1', 'b': 'v1', 'c': 'v2'}, {P: TOO_LONG},
     (('v1', 1),), ('c', 'd')),
    # A volume known to take 2 pages is not worth it for 2 backups.
    (list('ab'), {'a': 'v1', 'b': 'v1'}, {P: TOO_LONG, 'v1': 2}, (),
     ('a', 'b')),
    (list('abc'), {'a': 'v1', 'b': 'v1', 'c': 'v1'}, {P: TOO_LONG, 'v1': 2},
     (('v1', 2),), ()),
    # By volume when that is cheaper than the project's list.
    (list('abcdef'), dict.fromkeys('abcdef', 'v1'), {P: 3}, (('v1', 1),),
     ()),
    (list('abcdef'), dict.fromkeys('abcdef', 'v1'), {P: 3, 'v1': 1},
     (('v1', 5),), ()),
])
def test_a_round_asks_for_the_fewest_requests(ids, volumes, pages, lists,
                                              gets):
    plan = waiter.plan_round(ids, sightings(volumes, pages))
    assert (plan.lists, plan.gets) == (lists, gets)
    # Never more than a GET each.
    assert plan.cost <= len(ids)


# -- waiting by list: a simulated clock and a listing server ---------------

class ListingServer:
    """Backups being deleted, each gone at its time of `clock`; a list
    of pages of `page` records (the project's, or a volume's); GETs.
    Every request is counted by kind.
    """

    budget = 60

    def __init__(self, clock, gone_at, volumes=None, page=1000,
                 others=0, status='deleting'):
        self.clock, self.page = clock, page
        self.backups = {i: {'id': i, 'status': status,
                            'volume_id': (volumes or {}).get(i, 'v0')}
                        for i in gone_at}
        for n in range(others):  # backups of the project that stay
            self.backups['other-%05d' % n] = {
                'id': 'other-%05d' % n, 'status': 'available',
                'volume_id': 'v-other'}
        self.gone_at = dict(gone_at)
        self.asked = collections.Counter()
        self.ignore_volume_filter = False

    def bound(self, pipeline=None, deadline=None):
        return self

    def _shown(self):
        return [b for i, b in sorted(self.backups.items())
                if self.clock() < self.gone_at.get(i, float('inf'))]

    def get(self, backup_id):
        self.asked['GET'] += 1
        for record in self._shown():
            if record['id'] == backup_id:
                return dict(record)
        raise errors.NotFound(404, 'Backup %s could not be found.'
                              % backup_id)

    def list(self, detailed=False, limit=None, most_pages=None,
             report=None, volume_id=None):
        shown = [dict(r) for r in self._shown() if volume_id is None
                 or self.ignore_volume_filter
                 or r['volume_id'] == volume_id]
        pages = [shown[n:n + self.page]
                 for n in range(0, len(shown), self.page)] or [[]]
        for number, records in enumerate(pages, 1):
            if number > most_pages:
                raise errors.ListCutShort('cut short')
            self.asked['list'] += 1
            report.pages += 1
            for record in records:
                if volume_id and record['volume_id'] != volume_id:
                    report.left_out.add('filtered')
                    continue
                yield record


def listing_run(server, clock, timeout=600):
    return runs.Run(server, parallel=4, timeout=timeout, sleep=clock.sleep,
                    clock=clock)


def test_many_backups_cost_one_list_page_a_round_and_end_soon():
    # 300 backups whose deletion takes 20 s: after the first round, one
    # list page a round; the wait ends within an interval of the last.
    clock = FakeClock()
    ids = ['b%03d' % n for n in range(300)]
    server = ListingServer(clock, {i: 20 + n / 100 for n, i in
                                   enumerate(ids)})
    waited = waiter.until_gone(listing_run(server, clock), ids)
    assert {e.result for e in waited.ends.values()} == {Result.GONE}
    assert waited.pending == {}
    # Rounds at 1, 3, ..., 23 s: 300 deletes and 12 pages, 1.04 each.
    assert server.asked == {'list': 12}
    assert clock.now - max(server.gone_at.values()) <= 2.0


def test_absent_at_first_sight_is_asked_for_once():
    # A backup never seen in the list may not belong there (an admin's
    # backup of another project): a GET decides.
    clock = FakeClock()
    server = ListingServer(clock, {'a': 0, 'b': 0, 'c': 3})
    waited = waiter.until_gone(listing_run(server, clock), ['a', 'b', 'c'])
    assert waited.ends.keys() == {'a', 'b', 'c'}
    # At 1 s the list shows c: a and b are asked for; at 3 s c alone is
    # left, and one backup is a GET.
    assert server.asked == {'list': 1, 'GET': 3}


def test_a_filter_the_server_does_not_apply_never_makes_a_backup_gone():
    clock = FakeClock()
    volumes = dict.fromkeys('abc', 'v1')
    server = ListingServer(clock, {'a': 3, 'b': 30, 'c': 30}, volumes,
                           others=3)
    server.ignore_volume_filter = True
    run = listing_run(server, clock)
    run.sightings.listed(waiter.PROJECT, [])  # seen: the whole list
    run.sightings.pages[waiter.PROJECT] = waiter.TOO_LONG
    run.sightings.listed('v1', [server.backups[i] for i in 'abc'])
    run.sightings.pages['v1'] = 1
    waited = waiter.until_gone(run, ['a', 'b', 'c'])
    assert waited.ends.keys() == {'a', 'b', 'c'}
    # Each "gone" was a GET's 404: a list with records of other volumes
    # in it is no proof of absence.
    assert server.asked['GET'] >= 3


def test_a_long_project_list_is_cut_short_once_and_left():
    # 5 backups among 20,000: the project's list is tried for one page,
    # then never again; a GET each from then on.
    clock = FakeClock()
    ids = ['b%d' % n for n in range(5)]
    server = ListingServer(clock, dict.fromkeys(ids, 9), others=20000)
    waited = waiter.until_gone(listing_run(server, clock), ids)
    assert waited.ends.keys() == set(ids)
    assert server.asked['list'] == 1
    # The first page showed them (deleting); then one GET a round, at 3,
    # 5, 7 and 9 s, and the other four once that one was gone.
    assert server.asked['GET'] == 4 + 4


def test_a_prunes_listing_lets_the_first_round_read_absence():
    clock = FakeClock()
    ids = ['b%d' % n for n in range(50)]
    server = ListingServer(clock, dict.fromkeys(ids, 0.5), others=10)
    run = listing_run(server, clock)
    run.sightings.listed(waiter.PROJECT, list(server.backups.values()))
    run.sightings.pages[waiter.PROJECT] = 1
    waited = waiter.until_gone(run, ids)
    assert waited.ends.keys() == set(ids)
    assert server.asked == {'list': 1}


def test_error_deleting_in_a_list_fails_that_backup_at_once():
    clock = FakeClock()
    server = ListingServer(clock, {'a': 100, 'b': 3})
    server.backups['a']['status'] = 'error_deleting'
    waited = waiter.until_gone(listing_run(server, clock), ['a', 'b'])
    assert waited.ends['a'].result is Result.FAILED
    assert waited.ended_at['a'] == 1.0


def test_a_backup_stuck_deleting_does_not_hide_the_others_ends():
    # One at a time, in turn: the others are asked for too.
    clock = FakeClock()
    server = ListingServer(clock, {'stuck': 10 ** 6, 'b': 2, 'c': 2},
                           others=2000, page=1000)
    run = listing_run(server, clock, timeout=30)
    run.sightings.pages[waiter.PROJECT] = waiter.TOO_LONG
    waited = waiter.until_gone(run, ['stuck', 'b', 'c'])
    assert waited.ends.keys() == {'b', 'c'}
    assert waited.ended_at['b'] <= 5.0
    assert waited.pending == {'stuck': 'deleting'}


def test_the_last_round_reads_every_backup():
    # The timeout ends the wait: a backup gone by then is gone, not
    # reported still there because its turn had not come.
    clock = FakeClock()
    server = ListingServer(clock, {'a': 10 ** 6, 'b': 6, 'c': 10 ** 6},
                           others=2000)
    run = listing_run(server, clock, timeout=9)
    run.sightings.pages[waiter.PROJECT] = waiter.TOO_LONG
    # In turn: a at 1 s, c at 3 s, b at 5 s (there), a at 7 s; at 9 s all.
    waited = waiter.until_gone(run, ['a', 'c', 'b'])
    assert waited.ends.keys() == {'b'}
    assert waited.pending == {'a': 'deleting', 'c': 'deleting'}


def test_a_survey_before_the_deletes_makes_later_absence_mean_gone():
    # On a server that deletes in a moment, the backups are gone by the
    # first round: seen in the survey, their absence needs no GET.
    clock = FakeClock()
    ids = ['b%d' % n for n in range(20)]
    server = ListingServer(clock, dict.fromkeys(ids, 0.5), others=5)
    run = listing_run(server, clock)
    waiter.survey(run)
    waited = waiter.until_gone(run, ids)
    assert {e.result for e in waited.ends.values()} == {Result.GONE}
    assert server.asked == {'list': 2}


def test_a_survey_of_a_long_list_costs_one_page_and_is_not_repeated():
    clock = FakeClock()
    server = ListingServer(clock, {'a': 0.5, 'b': 0.5}, others=3000)
    run = listing_run(server, clock)
    waiter.survey(run)
    waiter.survey(run)
    assert server.asked == {'list': 1}
    assert run.sightings.pages[waiter.PROJECT] == waiter.TOO_LONG
