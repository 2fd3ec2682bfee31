"""Deleting many backups: names, duplicates, aggregation, --force, --wait."""

import pytest

from vbsclient.api import deletion
from vbsclient.api import errors
from tests.unit.conftest import BACKUPS_URL, backup_url, vbs_calls

A = '11111111-1111-4111-8111-111111111111'
B = '22222222-2222-4222-8222-222222222222'
C = '33333333-3333-4333-8333-333333333333'
NOT_FOUND = {'itemNotFound': {'message': 'Backup could not be found.',
                              'code': 404}}


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


def results(outcomes):
    return [(o.argument, o.result) for o in outcomes]


def test_ids_cost_one_delete_each_and_no_lookup(client, cloud):
    for backup in (A, B):
        cloud.delete(backup_url(backup), status_code=202)
    outcomes = deletion.delete_backups(client, [A, B])
    assert results(outcomes) == [(A, 'deleted'), (B, 'deleted')]
    assert [c.method for c in vbs_calls(cloud)] == ['DELETE', 'DELETE']


def test_partial_failure_gives_every_backup_one_outcome(client, cloud):
    cloud.delete(backup_url(A), status_code=202)
    cloud.delete(backup_url(B), status_code=404, json=NOT_FOUND,
                 headers={'x-openstack-request-id': 'req-b'})
    cloud.delete(backup_url(C), status_code=202)
    outcomes = deletion.delete_backups(client, [A, B, C])
    assert results(outcomes) == [(A, 'deleted'), (B, 'failed'),
                                 (C, 'deleted')]
    failed = outcomes[1]
    assert failed.request_id == 'req-b'
    assert 'Backup could not be found. (HTTP 404' in failed.reason
    # The failure did not stop the others.
    assert len(vbs_calls(cloud)) == 3


def test_a_name_is_resolved_through_the_list(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly'}]})
    cloud.delete(backup_url(A), status_code=202)
    [outcome] = deletion.delete_backups(client, ['nightly'])
    assert (outcome.backup_id, outcome.name, outcome.result) == (
        A, 'nightly', 'deleted')


def test_a_name_matching_nothing_exactly_is_not_found(client, cloud):
    # Some servers filter by substring; only an exact match counts.
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly-old'}]})
    [outcome] = deletion.delete_backups(client, ['nightly'])
    assert outcome.failed
    assert "No backup with name or ID 'nightly' exists." == outcome.reason
    assert [c.method for c in vbs_calls(cloud)] == ['GET']


def test_an_ambiguous_name_is_refused_with_the_candidates(client, cloud):
    cloud.get(BACKUPS_URL + '?name=twin', json={'backups': [
        {'id': A, 'name': 'twin'}, {'id': B, 'name': 'twin'}]})
    [outcome] = deletion.delete_backups(client, ['twin'])
    assert outcome.failed
    assert A in outcome.reason and B in outcome.reason
    assert 'by its ID' in outcome.reason
    assert 'DELETE' not in [c.method for c in vbs_calls(cloud)]


def test_the_same_backup_named_twice_is_deleted_once(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly'}]})
    cloud.delete(backup_url(A), status_code=202)
    outcomes = deletion.delete_backups(client, [A, 'nightly', A.upper(), A])
    assert results(outcomes) == [(A, 'deleted')]
    assert [c.method for c in vbs_calls(cloud)].count('DELETE') == 1


def test_force_uses_the_force_delete_action(client, cloud):
    cloud.post(backup_url(A) + '/action', status_code=202)
    [outcome] = deletion.delete_backups(client, [A], force=True)
    assert outcome.result == 'deleted'
    assert cloud.last_request.json() == {'os-force_delete': {}}
    assert 'DELETE' not in [c.method for c in vbs_calls(cloud)]


@pytest.mark.parametrize('arguments', [[A, ''], [A, '   '], [A, 'x\ty']])
def test_bad_arguments_stop_everything_before_any_request(client, cloud,
                                                           arguments):
    with pytest.raises(errors.InvalidBackupId):
        deletion.delete_backups(client, arguments)
    assert not cloud.request_history


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
    outcomes = deletion.delete_backups(client, [A, B], wait=True, timeout=60,
                                       sleep=clock.sleep, clock=clock)
    assert results(outcomes) == [(A, 'gone'), (B, 'gone')]
    # Back-off between rounds, not a busy loop.
    assert clock.sleeps == [1.0, 2.0]


def test_wait_reports_error_deleting_as_a_failure(client, cloud):
    clock = FakeClock()
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(backup_url(A), json={'backup': {'status': 'error_deleting'}})
    [outcome] = deletion.delete_backups(client, [A], wait=True, timeout=60,
                                        sleep=clock.sleep, clock=clock)
    assert outcome.failed
    assert 'error_deleting' in outcome.reason


def test_wait_gives_up_at_the_timeout(client, cloud):
    clock = FakeClock()
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(backup_url(A), json={'backup': {'status': 'deleting'}})
    [outcome] = deletion.delete_backups(client, [A], wait=True, timeout=30,
                                        sleep=clock.sleep, clock=clock)
    assert outcome.failed
    assert outcome.reason == 'still deleting after 30 seconds (timeout)'
    assert clock.now == 30
    assert max(clock.sleeps) <= 10


def test_wait_does_not_poll_backups_whose_delete_failed(client, cloud):
    clock = FakeClock()
    cloud.delete(backup_url(A), status_code=400, json={'badRequest': {
        'message': 'Invalid backup: Backup status must be available or '
                   'error', 'code': 400}})
    [outcome] = deletion.delete_backups(client, [A], wait=True, timeout=30,
                                        sleep=clock.sleep, clock=clock)
    assert outcome.failed and 'must be available or error' in outcome.reason
    assert [c.method for c in vbs_calls(cloud)] == ['DELETE']
