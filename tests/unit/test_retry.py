"""Retries: back-off with jitter, Retry-After, budgets, re-authentication,
and what a cut-off attempt means for a DELETE."""

import email.utils

import pytest
import requests
import urllib3

from vbsclient.api import errors
from vbsclient.api import retry
from tests.unit.conftest import AUTH_URL, backup_url, vbs_calls

A = '11111111-1111-4111-8111-111111111111'


def test_backoff_grows_is_bounded_and_jittered():
    policy = retry.RetryPolicy(jitter=lambda low, high: (low, high))
    assert [policy._backoff(n) for n in range(3)] == [
        (0.25, 0.5), (0.5, 1.0), (1.0, 2.0)]
    assert policy._backoff(20) == (15.0, 30.0)


@pytest.mark.parametrize('value, seconds', [
    ('3', 3.0), (' 7 ', 7.0), ('', None), (None, None), ('soon', None)])
def test_retry_after_seconds(value, seconds):
    assert retry.retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date():
    when = email.utils.formatdate(1000.0 + 12, usegmt=True)
    assert retry.retry_after_seconds(when, now=lambda: 1000.0) == 12.0
    assert retry.retry_after_seconds(when, now=lambda: 2000.0) == 0.0


def test_503_bursts_are_retried_with_growing_pauses(retrying_client, cloud,
                                                     pauses):
    cloud.delete(backup_url(A), [{'status_code': 503}, {'status_code': 503},
                                 {'status_code': 502, 'text': '<html/>'},
                                 {'status_code': 202}])
    retrying_client.delete(A)
    assert len(vbs_calls(cloud)) == 4
    assert 0.25 <= pauses[0] <= 0.5 and 0.5 <= pauses[1] <= 1.0
    assert 1.0 <= pauses[2] <= 2.0


def test_throttling_waits_as_retry_after_says_but_bounded(retrying_client,
                                                          cloud, pauses):
    cloud.delete(backup_url(A), [
        {'status_code': 429, 'headers': {'Retry-After': '2'}},
        {'status_code': 413, 'headers': {'Retry-After': '3600'}},
        {'status_code': 202}])
    retrying_client.delete(A)
    assert pauses == [2.0, retry.MAX_RETRY_AFTER]


def test_the_budget_runs_out_with_the_last_answer(retrying_client, cloud,
                                                  pauses):
    cloud.delete(backup_url(A), status_code=503, json={
        'serviceUnavailable': {'message': 'busy'}})
    with pytest.raises(errors.ApiError) as info:
        retrying_client.delete(A)
    assert info.value.status_code == 503
    assert len(vbs_calls(cloud)) == 4  # 1 + 3 retries
    assert not info.value.after_uncertain_attempt


def test_no_retry_for_answers_that_would_not_change(retrying_client, cloud,
                                                    pauses):
    cloud.delete(backup_url(A), status_code=400, json={'badRequest': {
        'message': 'no'}})
    with pytest.raises(errors.ApiError):
        retrying_client.delete(A)
    assert len(vbs_calls(cloud)) == 1 and pauses == []


def test_a_refused_connection_is_retried_and_certain(retrying_client,
                                                     cloud, pauses):
    refused = requests.exceptions.ConnectionError(
        urllib3.exceptions.NewConnectionError(None, 'refused'))
    cloud.delete(backup_url(A), [{'exc': refused}, {'status_code': 404}])
    with pytest.raises(errors.ApiError) as info:
        retrying_client.delete(A)
    assert info.value.status_code == 404
    assert not info.value.after_uncertain_attempt  # never reached a server


@pytest.mark.parametrize('failure', [
    requests.exceptions.ReadTimeout('read timed out'),
    requests.exceptions.ConnectionError('Connection aborted: reset by peer'),
])
def test_a_cut_off_attempt_makes_a_later_answer_uncertain(
        retrying_client, cloud, pauses, failure):
    cloud.delete(backup_url(A), [{'exc': failure}, {'status_code': 404}])
    with pytest.raises(errors.ApiError) as info:
        retrying_client.delete(A)
    assert info.value.after_uncertain_attempt


def test_gateway_timeouts_are_uncertain(retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), [{'status_code': 504}, {'status_code': 404}])
    with pytest.raises(errors.ApiError) as info:
        retrying_client.delete(A)
    assert info.value.after_uncertain_attempt


def test_an_expired_token_is_renewed_once_and_the_run_goes_on(
        retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), [{'status_code': 401}, {'status_code': 202}])
    retrying_client.delete(A)
    tokens = [r for r in cloud.request_history
              if r.url == AUTH_URL + '/auth/tokens']
    assert len(tokens) == 2 and len(vbs_calls(cloud)) == 2
    assert pauses == []  # keystoneauth's re-authentication, no back-off


def test_stopping_ends_retries(retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), status_code=503)
    retrying_client.stopping.set()
    with pytest.raises(errors.ApiError):
        retrying_client.delete(A)
    assert len(vbs_calls(cloud)) == 1


def test_timeouts_are_passed_to_every_request(retrying_client, cloud):
    cloud.delete(backup_url(A), status_code=202)
    retrying_client.connect_timeout, retrying_client.read_timeout = 3, 7
    retrying_client.delete(A)
    assert cloud.last_request.timeout == (3, 7)


def test_a_401_left_by_a_parallel_renewal_gets_one_more_attempt(
        retrying_client, cloud, pauses):
    # keystoneauth renews after the first 401; a second one is what a
    # thread sees when another thread has just cleared the token.
    cloud.delete(backup_url(A), [{'status_code': 401}, {'status_code': 401},
                                 {'status_code': 202}])
    retrying_client.delete(A)
    assert len(vbs_calls(cloud)) == 3 and pauses == []


def test_a_401_that_stays_is_a_failure_soon(retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), status_code=401, json={'error': {
        'message': 'The request you have made requires authentication.',
        'code': 401}})
    with pytest.raises(errors.ApiError) as info:
        retrying_client.delete(A)
    assert info.value.status_code == 401
    assert len(vbs_calls(cloud)) == 4  # keystoneauth's renewal, and ours
