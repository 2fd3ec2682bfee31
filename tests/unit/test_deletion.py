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

"""Bulk deletion: names, duplicates, aggregation, --force, --wait,
--ignore-missing, --dry-run, parallelism and streaming.
"""

import re
import threading
import time

import pytest
import requests

from tests.unit.conftest import A
from tests.unit.conftest import AUTH_URL
from tests.unit.conftest import B
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import C
from tests.unit.conftest import NOT_FOUND
from tests.unit.conftest import vbs_calls
from vbsclient.api import deletion
from vbsclient.api.outcome import Result
from vbsclient.api import run as runs

NO_BACKUP_SERVICE = {'itemNotFound': {
    'message': 'Service cinder-backup could not be found.', 'code': 404}}


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def bulk_delete(client, parallel=None, timeout=60, sleep=None, clock=None,
                **options):
    """A BulkDelete in a run of its own, on a FakeClock unless given."""
    clock = clock or FakeClock()
    run = runs.Run(client, parallel=parallel, timeout=timeout,
                   sleep=sleep or clock.sleep, clock=clock)
    return deletion.BulkDelete(run, **options)


def delete(client, arguments, wait=False, **options):
    return list(bulk_delete(client, **options).run(arguments, wait=wait))


def results(outcomes):
    return [(o.argument, o.result) for o in outcomes]


def methods(cloud):
    return [c.method for c in vbs_calls(cloud)]


# -- the basics ---------------------------------------------------------------

def test_ids_cost_one_delete_each_and_no_lookup(client, cloud):
    for backup in (A, B):
        cloud.delete(backup_url(backup), status_code=202)
    assert results(delete(client, [A, B])) == [(A, 'deleted'),
                                               (B, 'deleted')]
    assert methods(cloud) == ['DELETE', 'DELETE']


def test_partial_failure_gives_every_backup_one_outcome(client, cloud):
    cloud.delete(backup_url(A), status_code=202)
    cloud.delete(backup_url(B), status_code=404, json=NOT_FOUND,
                 headers={'x-openstack-request-id': 'req-b'})
    cloud.delete(backup_url(C), status_code=202)
    outcomes = delete(client, [A, B, C])
    assert results(outcomes) == [(A, 'deleted'), (B, 'failed'),
                                 (C, 'deleted')]
    assert outcomes[1].request_id == 'req-b'
    assert 'Backup could not be found. (HTTP 404' in outcomes[1].reason
    assert len(vbs_calls(cloud)) == 3  # the failure did not stop the others


def test_a_name_is_resolved_through_the_list(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly'}]})
    cloud.delete(backup_url(A), status_code=202)
    [outcome] = delete(client, ['nightly'])
    assert (outcome.backup_id, outcome.name, outcome.result) == (
        A, 'nightly', 'deleted')


def test_a_name_matching_nothing_exactly_is_not_found(client, cloud):
    # Some servers filter by substring; only an exact match counts.
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly-old'}]})
    [outcome] = delete(client, ['nightly'])
    assert outcome.failed
    assert outcome.reason == "No backup with name or ID 'nightly' exists."
    assert methods(cloud) == ['GET']


def test_an_ambiguous_name_is_refused_with_the_candidates(client, cloud):
    cloud.get(BACKUPS_URL + '?name=twin', json={'backups': [
        {'id': A, 'name': 'twin'}, {'id': B, 'name': 'twin'}]})
    [outcome] = delete(client, ['twin'], ignore_missing=True)
    assert outcome.failed  # ambiguity is never "missing"
    assert A in outcome.reason and B in outcome.reason
    assert 'by its ID' in outcome.reason
    assert 'DELETE' not in methods(cloud)


def test_the_same_backup_named_twice_is_deleted_once(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly'}]})
    cloud.delete(backup_url(A), status_code=202)
    outcomes = delete(client, [A, 'nightly', A.upper(), A], parallel=1)
    assert results(outcomes) == [(A, 'deleted')]
    assert methods(cloud).count('DELETE') == 1


def test_force_uses_the_force_delete_action(client, cloud):
    cloud.post(backup_url(A) + '/action', status_code=202)
    [outcome] = delete(client, [A], force=True)
    assert outcome.result == 'deleted'
    assert cloud.last_request.json() == {'os-force_delete': {}}
    assert 'DELETE' not in methods(cloud)


@pytest.mark.parametrize('argument', ['   ', 'x\ty', '../backups'])
def test_a_bad_streamed_argument_is_that_lines_failure(client, cloud,
                                                       argument):
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(BACKUPS_URL, json={'backups': []})
    outcomes = delete(client, [argument, A])
    assert results(outcomes) == [(argument, 'failed'), (A, 'deleted')]
    assert methods(cloud).count('DELETE') == 1


@pytest.mark.parametrize('argument, reason', [
    ('   ', 'must not be empty or blank'),
    ('night\x1bly', 'contains control characters'),
    ('night\udcffly', 'is not valid UTF-8')])
def test_a_streamed_argument_that_names_nothing_costs_no_request(
        client, cloud, argument, reason):
    [outcome] = delete(client, [argument])
    assert outcome.failed and reason in outcome.reason
    assert vbs_calls(cloud) == []  # not even a lookup by name


def test_a_name_named_twice_is_looked_up_once(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly'}]})
    cloud.delete(backup_url(A), status_code=202)
    outcomes = delete(client, ['nightly', 'nightly'], parallel=1)
    assert results(outcomes) == [('nightly', 'deleted')]
    assert methods(cloud) == ['GET', 'DELETE']


def test_parallel_workers_get_a_connection_each(client, cloud):
    # A pool smaller than the workers makes the extra ones open and drop
    # a connection per request (urllib3 discards what does not fit).
    cloud.delete(backup_url(A), status_code=202)
    delete(client, [A], parallel=32)
    adapter = client.session.session.get_adapter(BACKUPS_URL)
    assert adapter._pool_maxsize >= 32


# -- --wait ------------------------------------------------------------------

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


@pytest.mark.parametrize('wait', [False, True])
def test_a_backup_being_deleted_already_is_no_failure(client, cloud, wait):
    # A rerun after a --wait timeout meets what the first run deleted.
    cloud.delete(backup_url(A), status_code=400, json={'badRequest': {
        'message': 'Invalid backup: Backup status must be available or '
                   'error', 'code': 400}})
    cloud.get(backup_url(A), [
        {'json': {'backup': {'id': A, 'status': 'deleting'}}},
        {'status_code': 404, 'json': NOT_FOUND}])
    [outcome] = delete(client, [A], wait=wait)
    assert outcome.result == ('gone' if wait else 'deleted')
    if not wait:
        assert 'already being deleted' in outcome.reason
    assert methods(cloud) == ['DELETE', 'GET'] + (['GET'] if wait else [])


# -- --ignore-missing ---------------------------------------------------------

def test_ignore_missing_counts_a_really_gone_backup_as_done(client, cloud):
    cloud.delete(backup_url(A), status_code=404, json=NOT_FOUND)
    cloud.get(backup_url(A), status_code=404, json=NOT_FOUND)
    [outcome] = delete(client, [A], ignore_missing=True)
    assert outcome.result == 'already-missing' and not outcome.failed


def test_ignore_missing_does_not_hide_a_404_while_the_backup_exists(
        client, cloud):
    # Cinder answers 404 "Service cinder-backup could not be found" when no
    # backup service is up, although the backup is still there.
    cloud.delete(backup_url(A), status_code=404, json=NO_BACKUP_SERVICE)
    cloud.get(backup_url(A), json={'backup': {'id': A,
                                              'status': 'available'}})
    [outcome] = delete(client, [A], ignore_missing=True)
    assert outcome.failed
    assert 'Service cinder-backup could not be found' in outcome.reason


@pytest.mark.parametrize('status, body', [
    (400, {'badRequest': {'message': 'Backup status must be available'}}),
    (403, {'forbidden': {'message': 'Policy does not allow'}}),
    (409, {'conflictingRequest': {'message': 'busy'}}),
    (500, {'computeFault': {'message': 'boom'}}),
    (503, None),
])
def test_ignore_missing_does_not_hide_other_failures(client, cloud, status,
                                                     body):
    cloud.delete(backup_url(A), status_code=status, json=body)
    [outcome] = delete(client, [A], ignore_missing=True)
    assert outcome.failed
    assert '(HTTP %d' % status in outcome.reason


def test_ignore_missing_when_a_404_cannot_be_confirmed(client, cloud):
    cloud.delete(backup_url(A), status_code=404, json=NOT_FOUND)
    cloud.get(backup_url(A), status_code=503)
    [outcome] = delete(client, [A], ignore_missing=True)
    assert outcome.failed


def test_ignore_missing_counts_a_name_matching_nothing_as_done(client,
                                                               cloud):
    cloud.get(BACKUPS_URL + '?name=old', json={'backups': []})
    [outcome] = delete(client, ['old'], ignore_missing=True)
    assert outcome.result == 'already-missing'


# -- --dry-run ----------------------------------------------------------------

def test_dry_run_resolves_everything_and_sends_no_delete(client, cloud):
    cloud.get(backup_url(A), json={'backup': {'id': A, 'name': 'alpha'}})
    cloud.get(backup_url(B), status_code=404, json=NOT_FOUND)
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': C, 'name': 'nightly'}]})
    cloud.get(backup_url(C), json={'backup': {'id': C, 'name': 'nightly'}})
    cloud.get(BACKUPS_URL + '?name=gone', json={'backups': []})
    outcomes = delete(client, [A, B, 'nightly', 'gone'], dry_run=True,
                      force=True, wait=True)
    assert [(o.argument, o.backup_id, o.name, o.result) for o in outcomes] == [
        (A, A, 'alpha', 'would-delete'),
        (B, B, None, 'failed'),
        ('nightly', C, 'nightly', 'would-delete'),
        ('gone', None, 'gone', 'failed')]  # the name as typed
    assert set(methods(cloud)) == {'GET'}


def test_dry_run_with_ignore_missing(client, cloud):
    cloud.get(backup_url(B), status_code=404, json=NOT_FOUND)
    [outcome] = delete(client, [B], dry_run=True, ignore_missing=True)
    assert outcome.result == 'already-missing'


# -- parallelism and streaming ------------------------------------------------

def _uuid(n):
    return '%08d-0000-4000-8000-000000000000' % n


class OverlapClient:
    """A client stand-in that measures how many deletes overlap.

    (requests-mock serialises requests, so this is measured without HTTP.)
    """

    def __init__(self):
        self.now = self.most = 0
        self.deleted = []
        self.lock = threading.Lock()

    budget = 60

    def bound(self, pipeline=None, deadline=None):
        return self

    def allow_parallel(self, workers):
        pass

    def find(self, argument):
        return argument, None

    def delete(self, backup_id):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.005)
        with self.lock:
            self.now -= 1
            self.deleted.append(backup_id)
        return 'req-' + backup_id


@pytest.mark.parametrize('parallel', [1, 4])
def test_parallel_bounds_requests_in_flight(parallel):
    client = OverlapClient()
    wanted = [_uuid(n) for n in range(24)]
    outcomes = delete(client, wanted, parallel=parallel)
    assert [o.argument for o in outcomes] == wanted  # input order kept
    assert {o.result for o in outcomes} == {'deleted'}
    assert sorted(client.deleted) == wanted
    if parallel == 1:
        assert client.most == 1
    else:
        assert 1 < client.most <= parallel


def test_one_token_for_a_whole_parallel_run(client, cloud):
    for n in range(40):
        cloud.delete(backup_url(_uuid(n)), status_code=202)
    delete(client, [_uuid(n) for n in range(40)], parallel=8)
    tokens = [r for r in cloud.request_history
              if r.url == AUTH_URL + '/auth/tokens']
    assert len(tokens) == 1


def test_input_is_streamed_not_read_all_at_once(client, cloud):
    consumed = []

    def arguments():
        for n in range(200):
            consumed.append(n)
            yield _uuid(n)

    for n in range(200):
        cloud.delete(backup_url(_uuid(n)), status_code=202)
    bulk = bulk_delete(client, parallel=4)
    stream = bulk.run(arguments())
    next(stream)
    assert len(consumed) <= 2 * 4 + 1
    assert len(list(stream)) == 199


# -- cut-off attempts ---------------------------------------------------------

def test_a_retry_that_finds_the_backup_gone_is_not_a_failure(
        retrying_client, cloud):
    cloud.delete(backup_url(A), [
        {'exc': requests.exceptions.ReadTimeout('read timed out')},
        {'status_code': 404, 'json': NOT_FOUND}])
    cloud.get(backup_url(A), status_code=404, json=NOT_FOUND)
    [outcome] = delete(retrying_client, [A])
    assert outcome.result == 'gone' and not outcome.failed
    assert 'may have deleted it' in outcome.reason


def test_a_retry_refused_because_the_first_attempt_started_deleting(
        retrying_client, cloud):
    cloud.delete(backup_url(A), [
        {'exc': requests.exceptions.ConnectionError('reset by peer')},
        {'status_code': 400, 'json': {'badRequest': {
            'message': 'Backup status must be available or error'}}}])
    cloud.get(backup_url(A), json={'backup': {'status': 'deleting'}})
    [outcome] = delete(retrying_client, [A])
    assert outcome.result == 'deleted'
    assert 'cut off' in outcome.reason


def test_a_cut_off_attempt_with_the_backup_still_there_is_a_failure(
        retrying_client, cloud):
    cloud.delete(backup_url(A), [
        {'exc': requests.exceptions.ReadTimeout('read timed out')},
        {'status_code': 400, 'json': {'badRequest': {
            'message': 'Invalid backup: Backup status must be available '
                       'or error'}}}])
    cloud.get(backup_url(A), json={'backup': {'status': 'available'}})
    [outcome] = delete(retrying_client, [A])
    assert outcome.failed
    assert 'Backup status must be available' in outcome.reason


def test_a_certain_404_stays_a_failure(retrying_client, cloud):
    cloud.delete(backup_url(A), [{'status_code': 503},
                                 {'status_code': 404, 'json': NOT_FOUND}])
    [outcome] = delete(retrying_client, [A])
    assert outcome.failed
    assert 'GET' not in methods(cloud)


# -- interruption -------------------------------------------------------------

class InterruptingClient(OverlapClient):
    """Stops the run (as Ctrl-C would) while deleting the n-th backup."""

    def __init__(self, at):
        super().__init__()
        self.at = at
        self.bulk = None

    def delete(self, backup_id):
        if backup_id == _uuid(self.at):
            self.bulk.run_context.stop()
        return super().delete(backup_id)


@pytest.mark.parametrize('parallel', [1, 4])
def test_an_interrupted_run_accounts_for_every_backup(parallel):
    client = InterruptingClient(at=10)
    bulk = client.bulk = bulk_delete(client, parallel=parallel)
    wanted = [_uuid(n) for n in range(100)]
    outcomes = list(bulk.run(iter(wanted)))
    assert bulk.interrupted
    assert [o.argument for o in outcomes] == wanted  # each exactly once
    deleted = [o.backup_id for o in outcomes if o.result == 'deleted']
    skipped = [o.backup_id for o in outcomes if o.result == 'not-attempted']
    assert deleted + skipped == wanted
    # Nothing reported deleted that was not, nothing deleted unreported.
    assert sorted(deleted) == sorted(client.deleted)
    assert _uuid(10) in deleted and len(deleted) <= 10 + 2 * parallel


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


def test_an_id_named_again_after_an_interruption_gets_one_outcome():
    client = InterruptingClient(at=2)
    bulk = client.bulk = bulk_delete(client, parallel=1)
    wanted = [_uuid(n) for n in range(6)] + [_uuid(1), _uuid(5)]
    outcomes = list(bulk.run(iter(wanted)))
    assert [o.argument for o in outcomes] == wanted[:6]


# -- incremental chains -------------------------------------------------------

class ChainCloud:
    """Cinder's rules for one volume's chains, in memory: a backup with
    incremental backups depending on it is refused, and so is one in a
    status other than available or error; a delete takes effect at once
    (the next GET answers 404), or after `linger` GETs of the backup in
    status deleting.
    """

    def __init__(self, cloud, chains, statuses=(), linger=(), ends=(),
                 takes=None, clock=None):
        # chains: lists of IDs, each a full backup then its incrementals.
        # statuses: {ID: status} other than available; linger: {ID: how
        # many GETs see it deleting once its delete is accepted}; ends:
        # {ID: the status it then ends in} (default: it is gone); takes:
        # seconds (of `clock`) every accepted delete takes to complete.
        self.backups, self.deletes = {}, []
        self.linger, self.ends = dict(linger), dict(ends)
        self.takes, self.clock, self.gone_at = takes, clock, {}
        clock = 0
        for chain in chains:
            for position, backup_id in enumerate(chain):
                clock += 1
                self.backups[backup_id] = {
                    'id': backup_id, 'name': 'b%d' % clock,
                    'volume_id': 'vol-1',
                    'status': dict(statuses).get(backup_id, 'available'),
                    'is_incremental': position > 0,
                    'parent_id': chain[position - 1] if position else None,
                    'created_at': '2026-11-27T10:%02d:%02d' % divmod(clock,
                                                                     60)}
        one = re.compile(re.escape(BACKUPS_URL) + '/([0-9a-f-]{36})$')
        cloud.delete(one, json=self._delete)
        cloud.get(one, json=self._get)
        cloud.get(re.compile(re.escape(BACKUPS_URL) + r'/detail'),
                  json=self._list)

    def _children(self, backup_id):
        return [b for b in self.backups.values()
                if b['parent_id'] == backup_id]

    def _record(self, backup):
        shown = dict(backup, has_dependent_backups=bool(
            self._children(backup['id'])))
        shown.pop('parent_id')
        return shown

    def _complete(self):
        """Deletes that have taken their time are done."""
        for backup_id, when in list(self.gone_at.items()):
            if self.clock() >= when:
                del self.backups[backup_id], self.gone_at[backup_id]

    def _delete(self, request, context):
        self._complete()
        backup_id = request.path.rsplit('/', 1)[1]
        self.deletes.append(backup_id)
        context.status_code = 400
        if self.backups[backup_id]['status'] not in ('available', 'error'):
            return {'badRequest': {'code': 400, 'message': 'Invalid backup: '
                                   'Backup status must be available or '
                                   'error'}}
        if self._children(backup_id):
            return {'badRequest': {'code': 400, 'message': 'Invalid backup: '
                                   'Incremental backups exist for this '
                                   'backup.'}}
        if backup_id in self.linger or self.takes:
            self.backups[backup_id]['status'] = 'deleting'
            if self.takes:
                self.gone_at[backup_id] = self.clock() + self.takes
        else:
            del self.backups[backup_id]
        context.status_code = 202
        return None

    def _get(self, request, context):
        self._complete()
        backup_id = request.path.rsplit('/', 1)[1]
        backup = self.backups.get(backup_id)
        if backup is not None and backup['status'] == 'deleting' \
                and backup_id in self.linger:
            self.linger[backup_id] -= 1
            if self.linger[backup_id] < 0 and backup_id in self.ends:
                backup['status'] = self.ends[backup_id]
            elif self.linger[backup_id] < 0:
                del self.backups[backup_id]  # now it is gone
                backup = None
        if backup is None:
            context.status_code = 404
            return NOT_FOUND
        return {'backup': self._record(backup)}

    def _list(self, request, context):
        self._complete()
        return {'backups': [self._record(b) for b in self.backups.values()]}


def _ids(count, start):
    return ['%08d-0000-4000-8000-%012d' % (start, n) for n in range(count)]


@pytest.mark.parametrize('wait', [False, True])
def test_a_chain_named_in_any_order_is_deleted_in_one_run(client, cloud,
                                                          wait):
    first, second = _ids(5, 1), _ids(3, 2)
    chain_cloud = ChainCloud(cloud, [first, second])
    named = [first[0], second[2], first[3], second[0], first[1], first[4],
             second[1], first[2]]
    outcomes = delete(client, named, wait=wait)
    assert [o.argument for o in outcomes] == named  # input order kept
    assert {o.result for o in outcomes} <= {'deleted', 'gone'}
    assert chain_cloud.backups == {}
    # Every parent went after its incrementals; each was refused at most
    # once per level before that.
    assert chain_cloud.deletes.count(first[0]) <= 5


def test_a_parent_whose_newest_incremental_is_not_named_fails(client,
                                                              cloud):
    chain = _ids(4, 3)
    chain_cloud = ChainCloud(cloud, [chain])
    outcomes = delete(client, chain[:3])  # the newest is not named
    failed = [o for o in outcomes if o.failed]
    assert [o.backup_id for o in failed] == chain[:3]
    assert 'Incremental backups exist' in failed[0].reason
    assert chain[3] in failed[0].reason  # names what is in its way
    # Nothing was deleted: not even the part of the chain that was named.
    assert set(chain_cloud.backups) == set(chain)
    assert chain[3] not in chain_cloud.deletes


def test_a_dry_run_shows_the_order_and_flags_unnamed_dependents(client,
                                                                cloud):
    whole, cut = _ids(3, 4), _ids(3, 5)
    chain_cloud = ChainCloud(cloud, [whole, cut])
    outcomes = delete(client, [whole[0], whole[1], whole[2], cut[0]],
                      dry_run=True)
    assert [(o.backup_id, o.result) for o in outcomes] == [
        (whole[2], 'would-delete'), (cut[0], 'failed'),
        (whole[1], 'would-delete'), (whole[0], 'would-delete')]
    # Its own dependent (whose dependent in turn is cut[2]).
    assert cut[1] in outcomes[1].reason
    assert not chain_cloud.deletes


def test_a_dry_run_fails_a_parent_whose_dependents_cannot_be_listed(
        client, cloud):
    chain = _ids(2, 6)
    ChainCloud(cloud, [chain])
    cloud.get(re.compile(re.escape(BACKUPS_URL) + r'/detail'),
              status_code=500, json={'computeFault': {
                  'message': 'The list broke', 'code': 500}},
              headers={'x-openstack-request-id': 'req-list'})
    outcomes = delete(client, chain, dry_run=True)
    parent = next(o for o in outcomes if o.backup_id == chain[0])
    assert parent.result == 'failed'
    assert 'could not be listed' in parent.reason
    assert 'The list broke' in parent.reason
    assert parent.request_id == 'req-list'


def test_a_parent_whose_volume_cannot_be_listed_fails_with_the_lists_error(
        client, cloud):
    chain = _ids(2, 17)
    chain_cloud = ChainCloud(cloud, [chain])
    cloud.get(re.compile(re.escape(BACKUPS_URL) + r'/detail'),
              status_code=500, json={'computeFault': {
                  'message': 'The list broke', 'code': 500}},
              headers={'x-openstack-request-id': 'req-list'})
    [outcome] = delete(client, chain[:1])
    assert outcome.failed
    assert 'Incremental backups exist' in outcome.reason
    assert 'could not be listed: The list broke' in outcome.reason
    assert outcome.request_id == 'req-list'
    assert chain_cloud.deletes == chain[:1]


@pytest.mark.parametrize('named', [2, 3])
def test_a_dry_run_fails_parents_of_a_backup_in_creating(client, cloud,
                                                         named):
    chain = _ids(3, 7)
    ChainCloud(cloud, [chain], statuses={chain[2]: 'creating'})
    outcomes = delete(client, chain[:named], dry_run=True)
    parents = [o for o in outcomes if o.backup_id in chain[:2]]
    assert [o.result for o in parents] == ['failed', 'failed']
    for parent in parents:
        assert chain[2] in parent.reason and 'creating' in parent.reason


def test_a_backup_in_creating_fails_its_parent_with_no_delete_sent_again(
        client, cloud):
    chain = _ids(2, 8)
    chain_cloud = ChainCloud(cloud, [chain],
                             statuses={chain[1]: 'creating'})
    [outcome] = delete(client, chain[:1], wait=True)
    assert outcome.failed
    assert 'Incremental backups exist' in outcome.reason
    assert chain[1] in outcome.reason and 'creating' in outcome.reason
    assert chain_cloud.deletes == chain[:1]


def _deleting_forever(cloud, chain):
    return ChainCloud(cloud, [chain],
                      linger={backup_id: 10 ** 6 for backup_id in chain})


@pytest.mark.parametrize('named, who', [
    (2, 'deleted by this run'), (1, 'being deleted by others')])
def test_a_timeout_tells_dependents_of_this_run_from_others(client, cloud,
                                                            named, who):
    # The incremental is deleted by this run, or by someone else; either
    # way it is not gone within the timeout.
    chain = _ids(2, 9)
    chain_cloud = _deleting_forever(cloud, chain)
    if named == 1:
        chain_cloud.backups[chain[1]]['status'] = 'deleting'
    clock = FakeClock()
    full = delete(client, chain[:named], timeout=60, clock=clock)[0]
    assert full.failed
    assert 'does not delete' not in full.reason
    assert ('its incremental backups %s were not gone within 60 s: %s'
            % (who, chain[1])) in full.reason
    assert clock.now == 60


def test_an_accepted_incremental_stays_deleted_at_the_timeout(client, cloud):
    chain = _ids(2, 10)
    _deleting_forever(cloud, chain)
    full, incremental = delete(client, chain, timeout=30)
    assert incremental.result == 'deleted' and incremental.reason is None
    assert full.failed
    assert 'deleted by this run were not gone within 30 s' in full.reason
    assert chain[1] in full.reason


def test_a_dependent_deleted_elsewhere_is_waited_for(client, cloud):
    chain = _ids(3, 11)
    chain_cloud = ChainCloud(cloud, [chain], statuses={chain[2]: 'deleting'},
                             linger={chain[2]: 2})
    outcomes = delete(client, chain[:2])
    assert [o.result for o in outcomes] == ['deleted', 'deleted']
    assert chain_cloud.backups == {}


def test_a_long_chain_named_oldest_first_costs_few_requests(client, cloud):
    chain = _ids(51, 12)
    chain_cloud = ChainCloud(cloud, [chain])
    outcomes = delete(client, chain)
    assert {o.result for o in outcomes} == {'deleted'}
    assert chain_cloud.backups == {}
    assert len(vbs_calls(cloud)) <= 3 * len(chain)
    assert sum('/detail' in c.url for c in vbs_calls(cloud)) == 1


def test_a_chain_whose_deletes_take_time_is_not_polled_level_by_level(
        client, cloud):
    # On Cinder a delete takes a moment, the same for each backup of a
    # chain: once one level was seen to take it, the next parent waits
    # that long before its first try, instead of being refused and
    # polling (5 requests a backup on the local Cinder, measured; 2.6
    # with the wait).
    clock = FakeClock()
    chain = _ids(21, 15)
    chain_cloud = ChainCloud(cloud, [chain], takes=0.7, clock=clock)
    outcomes = delete(client, chain, clock=clock)
    assert {o.result for o in outcomes} == {'deleted'}
    clock.sleep(1)
    assert chain_cloud.backups.keys() == {chain[0]}  # the last, deleting
    assert len(vbs_calls(cloud)) <= 2.5 * len(chain)
    # And no slower for it: each level costs about what a delete takes.
    assert clock.now <= 1 + 20 * 1.5 * 0.7


def test_a_dependent_that_ends_in_error_deleting_fails_only_its_parent(
        client, cloud):
    chain = _ids(2, 13)
    chain_cloud = ChainCloud(cloud, [chain], linger={chain[1]: 1},
                             ends={chain[1]: 'error_deleting'})
    full, incremental = delete(client, chain)
    assert incremental.result == 'deleted'  # accepted: that much is known
    assert full.failed
    assert ('its incremental backups ended in status error_deleting: %s'
            % chain[1]) in full.reason
    assert chain_cloud.deletes.count(chain[0]) == 2


def test_a_parent_whose_dependent_parent_failed_is_not_sent_again(client,
                                                                  cloud):
    chain = _ids(3, 14)
    chain_cloud = _deleting_forever(cloud, chain)
    full, middle, newest = delete(client, chain, timeout=30)
    assert newest.result == 'deleted'
    assert 'deleted by this run were not gone within 30 s' in middle.reason
    assert full.failed
    assert ('incremental backups that depend on it were not deleted: %s'
            % chain[1]) in full.reason
    assert chain_cloud.deletes.count(chain[0]) == 1


def test_a_stop_in_the_chain_phase_sends_nothing_more(client, cloud):
    chain = _ids(3, 15)
    chain_cloud = ChainCloud(cloud, [chain], statuses={chain[2]: 'deleting'},
                             linger={chain[2]: 10 ** 6})
    clock = FakeClock()

    def sleep(seconds):
        bulk.run_context.stop()  # Ctrl-C while waiting for chain[2]
        clock.sleep(seconds)

    bulk = bulk_delete(client, timeout=600, sleep=sleep, clock=clock)
    full, middle = bulk.run(chain[:2])
    for parent in (full, middle):
        assert parent.failed
        assert 'Incremental backups exist' in parent.reason
        assert 'interrupted before it was sent again' in parent.reason
    assert chain_cloud.deletes.count(chain[0]) == 1
    assert chain_cloud.deletes.count(chain[1]) == 2
    assert len(clock.sleeps) == 1


def test_a_dry_run_waits_for_a_dependent_deleted_elsewhere(client, cloud):
    chain = _ids(3, 16)
    ChainCloud(cloud, [chain], statuses={chain[2]: 'deleting'})
    middle, full = delete(client, chain[:2], dry_run=True)
    assert (full.backup_id, full.result) == (chain[0], 'would-delete')
    assert full.reason == ('after the 1 incremental backup(s) that depend on '
                           'it are gone')
    assert middle.result == 'would-delete'
    assert middle.reason == ('after the 1 incremental backup(s) that depend '
                             'on it are gone, 1 of them being deleted by '
                             'others')


def test_the_summary_counts_every_result_that_occurred():
    summary = deletion.Summary({Result.DELETED: 3, Result.WOULD_DELETE: 2,
                                Result.NOT_ATTEMPTED: 5}, interrupted=True)
    assert summary.total == 10 and summary[Result.FAILED] == 0
    assert summary.line() == ('3 deleted, 2 would-delete, 0 failed, '
                              '5 not-attempted')


# -- listed IDs (a prune's plan) ----------------------------------------------

def test_listed_ids_are_deleted_as_written_without_a_lookup(client, cloud):
    upper, plain = A.upper(), 'bk-0001'
    for backup_id in (upper, plain):
        cloud.delete(backup_url(backup_id), status_code=202)
    outcomes = delete(client, [upper, plain], listed={})
    assert [(o.backup_id, o.result) for o in outcomes] == \
        [(upper, 'deleted'), (plain, 'deleted')]
    assert [(r.method, r.url) for r in vbs_calls(cloud)] == [
        ('DELETE', backup_url(upper)), ('DELETE', backup_url(plain))]


def test_a_listed_backup_gone_before_its_delete_is_gone(client, cloud):
    cloud.delete(backup_url(A), status_code=404, json=NOT_FOUND)
    cloud.get(backup_url(A), status_code=404, json=NOT_FOUND)
    [outcome] = delete(client, [A], listed={})
    assert (outcome.result, outcome.failed) == ('gone', False)
    assert 'someone else' in outcome.reason


def test_a_listed_backup_whose_404_is_not_the_apis_is_a_failure(client,
                                                                cloud):
    # No backup service: Cinder's 404 while the backup is still there.
    cloud.delete(backup_url(A), status_code=404, json=NO_BACKUP_SERVICE)
    cloud.get(backup_url(A), json={'backup': {'id': A,
                                              'status': 'available'}})
    [outcome] = delete(client, [A], listed={})
    assert outcome.failed


def test_a_listed_id_never_sent_keeps_its_case(client, cloud):
    bulk = bulk_delete(client, listed={})
    bulk.run_context.stop()
    [outcome] = list(bulk.run([A.upper()]))
    assert (outcome.backup_id, outcome.result) == (A.upper(),
                                                   'not-attempted')
    assert vbs_calls(cloud) == []


def test_a_listed_parent_is_held_until_its_dependent_is_gone(client, cloud):
    # A prune's plan: the parent reports a dependent, so its DELETE waits
    # until that one is gone and is never refused.
    chain = _ids(2, 30)
    chain_cloud = ChainCloud(cloud, [chain], linger={chain[1]: 2})
    records = {b['id']: chain_cloud._record(b)
               for b in chain_cloud.backups.values()}
    outcomes = delete(client, chain, listed=records)
    assert [(o.backup_id, o.result) for o in outcomes] == [
        (chain[0], 'deleted'), (chain[1], 'deleted')]
    assert chain_cloud.deletes == [chain[1], chain[0]]  # each sent once


def test_a_held_parent_the_stop_kept_is_not_attempted(client, cloud):
    chain = _ids(2, 31)
    chain_cloud = ChainCloud(cloud, [chain], linger={chain[1]: 50})
    records = {b['id']: chain_cloud._record(b)
               for b in chain_cloud.backups.values()}
    clock = FakeClock()

    def sleep(seconds):  # the run is stopped while it waits
        bulk.run_context.stop()
        clock.sleep(seconds)
    bulk = bulk_delete(client, listed=records, sleep=sleep, clock=clock)
    full, incremental = bulk.run(chain)
    assert incremental.result == 'deleted'
    assert (full.result, full.reason) == (
        'not-attempted', 'not attempted: the run was interrupted')
    assert chain_cloud.deletes == [chain[1]]  # the parent never sent
