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


def delete(client, arguments, wait=False, timeout=60, clock=None, **options):
    clock = clock or FakeClock()
    bulk = deletion.BulkDelete(client, **options)
    return list(bulk.run(arguments, wait=wait, timeout=timeout,
                         sleep=clock.sleep, clock=clock))


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
    bulk = deletion.BulkDelete(client, parallel=4)
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
            self.bulk.stop()
        return super().delete(backup_id)


@pytest.mark.parametrize('parallel', [1, 4])
def test_an_interrupted_run_accounts_for_every_backup(parallel):
    client = InterruptingClient(at=10)
    bulk = client.bulk = deletion.BulkDelete(client, parallel=parallel)
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
    bulk = deletion.BulkDelete(client)
    clock = FakeClock()

    def sleep(seconds):
        bulk.stop()  # Ctrl-C while waiting
        clock.sleep(seconds)

    [outcome] = bulk.run([A], wait=True, timeout=600, sleep=sleep,
                         clock=clock)
    assert outcome.result == 'deleted'
    assert outcome.reason == 'interrupted before it was seen gone'


def test_an_id_named_again_after_an_interruption_gets_one_outcome():
    client = InterruptingClient(at=2)
    bulk = client.bulk = deletion.BulkDelete(client, parallel=1)
    wanted = [_uuid(n) for n in range(6)] + [_uuid(1), _uuid(5)]
    outcomes = list(bulk.run(iter(wanted)))
    assert [o.argument for o in outcomes] == wanted[:6]


# -- incremental chains -------------------------------------------------------

class ChainCloud:
    """Cinder's rules for one volume's chains, in memory: a backup with
    incremental backups depending on it is refused; a delete takes effect
    at once (the next GET answers 404).
    """

    def __init__(self, cloud, chains):
        # chains: lists of IDs, each a full backup then its incrementals.
        self.backups, self.deletes = {}, []
        clock = 0
        for chain in chains:
            for position, backup_id in enumerate(chain):
                clock += 1
                self.backups[backup_id] = {
                    'id': backup_id, 'name': 'b%d' % clock,
                    'volume_id': 'vol-1', 'status': 'available',
                    'is_incremental': position > 0,
                    'parent_id': chain[position - 1] if position else None,
                    'created_at': '2026-11-27T10:00:%02d' % clock}
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

    def _delete(self, request, context):
        backup_id = request.path.rsplit('/', 1)[1]
        self.deletes.append(backup_id)
        if self._children(backup_id):
            context.status_code = 400
            return {'badRequest': {'code': 400, 'message': 'Invalid backup: '
                                   'Incremental backups exist for this '
                                   'backup.'}}
        del self.backups[backup_id]
        context.status_code = 202
        return None

    def _get(self, request, context):
        backup = self.backups.get(request.path.rsplit('/', 1)[1])
        if backup is None:
            context.status_code = 404
            return NOT_FOUND
        return {'backup': self._record(backup)}

    def _list(self, request, context):
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
    assert cut[1] in outcomes[1].reason and cut[2] in outcomes[1].reason
    assert not chain_cloud.deletes
