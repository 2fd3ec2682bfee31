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
from tests.unit.deleting import bulk_delete
from tests.unit.deleting import delete
from tests.unit.deleting import methods
from tests.unit.deleting import results
from tests.unit.deleting import uuid_of
from vbsclient.api import concurrency
from vbsclient.api import deletion
from vbsclient.api.outcome import Result

NO_BACKUP_SERVICE = {'itemNotFound': {
    'message': 'Service cinder-backup could not be found.', 'code': 404}}


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


# -- a backup being deleted already (reruns) ----------------------------------

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

    def delete(self, backup_id, gate=None):
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
    wanted = [uuid_of(n) for n in range(24)]
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
        cloud.delete(backup_url(uuid_of(n)), status_code=202)
    delete(client, [uuid_of(n) for n in range(40)], parallel=8)
    tokens = [r for r in cloud.request_history
              if r.url == AUTH_URL + '/auth/tokens']
    assert len(tokens) == 1


def test_input_is_streamed_not_read_all_at_once(client, cloud):
    consumed = []

    def arguments():
        for n in range(200):
            consumed.append(n)
            yield uuid_of(n)

    for n in range(200):
        cloud.delete(backup_url(uuid_of(n)), status_code=202)
    bulk = bulk_delete(client, parallel=4)
    stream = bulk.run(arguments())
    next(stream)
    assert len(consumed) <= concurrency.READ_AHEAD * 4 + 1
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

    def delete(self, backup_id, gate=None):
        if backup_id == uuid_of(self.at):
            self.bulk.run_context.stop()
        return super().delete(backup_id)


@pytest.mark.parametrize('parallel', [1, 4])
def test_an_interrupted_run_accounts_for_every_backup(parallel):
    client = InterruptingClient(at=10)
    bulk = client.bulk = bulk_delete(client, parallel=parallel)
    wanted = [uuid_of(n) for n in range(100)]
    outcomes = list(bulk.run(iter(wanted)))
    assert bulk.interrupted
    assert [o.argument for o in outcomes] == wanted  # each exactly once
    deleted = [o.backup_id for o in outcomes if o.result == 'deleted']
    skipped = [o.backup_id for o in outcomes if o.result == 'not-attempted']
    assert deleted + skipped == wanted
    # Nothing reported deleted that was not, nothing deleted unreported.
    assert sorted(deleted) == sorted(client.deleted)
    assert uuid_of(10) in deleted and len(deleted) <= 10 + 2 * parallel


def test_an_id_named_again_after_an_interruption_gets_one_outcome():
    client = InterruptingClient(at=2)
    bulk = client.bulk = bulk_delete(client, parallel=1)
    wanted = [uuid_of(n) for n in range(6)] + [uuid_of(1), uuid_of(5)]
    outcomes = list(bulk.run(iter(wanted)))
    assert [o.argument for o in outcomes] == wanted[:6]


# -- the summary --------------------------------------------------------------

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
