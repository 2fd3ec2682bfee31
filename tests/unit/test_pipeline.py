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

"""The pipeline (vbsclient.api.pipeline): every request's retries, its
budget, the stop, re-authentication, and what a cut-off attempt means
for a DELETE; through the API client, against a mocked cloud.
"""

import pytest
import requests
import urllib3

from tests.unit.conftest import A
from tests.unit.conftest import AUTH_URL
from tests.unit.conftest import B
from tests.unit.conftest import backup_url
from tests.unit.conftest import vbs_calls
from vbsclient.api import errors
from vbsclient.api import guards
from vbsclient.api import pipeline
from vbsclient.api import retry


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
    assert not isinstance(info.value, errors.Unconfirmed)


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
    # Never reached a server: the 404 is certain.
    assert type(info.value) is errors.ApiError
    assert info.value.status_code == 404


@pytest.mark.parametrize('failure', [
    requests.exceptions.ReadTimeout('read timed out'),
    requests.exceptions.ConnectionError('Connection aborted: reset by peer'),
])
def test_a_cut_off_attempt_makes_a_later_answer_uncertain(
        retrying_client, cloud, pauses, failure):
    cloud.delete(backup_url(A), [{'exc': failure}, {'status_code': 404}])
    with pytest.raises(errors.Unconfirmed) as info:
        retrying_client.delete(A)
    assert info.value.cause.status_code == 404


def test_gateway_timeouts_are_uncertain(retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), [{'status_code': 504}, {'status_code': 404}])
    with pytest.raises(errors.Unconfirmed) as info:
        retrying_client.delete(A)
    assert info.value.cause.status_code == 404


def test_an_expired_token_is_renewed_once_and_the_run_goes_on(
        retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), [{'status_code': 401}, {'status_code': 202}])
    retrying_client.delete(A)
    tokens = [r for r in cloud.request_history
              if r.url == AUTH_URL + '/auth/tokens']
    assert len(tokens) == 2 and len(vbs_calls(cloud)) == 2
    assert pauses == []  # keystoneauth's re-authentication, no back-off


def test_nothing_is_sent_after_a_stop(retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), status_code=503)
    stopped = pipeline.Pipeline()
    stopped.stop()
    with pytest.raises(errors.Interrupted):
        retrying_client.bound(pipeline=stopped).delete(A)
    assert len(vbs_calls(cloud)) == 0
    # The stop belonged to that run: the client itself still retries.
    with pytest.raises(errors.ApiError):
        retrying_client.delete(A)
    assert len(vbs_calls(cloud)) == 4


def test_a_stop_ends_retries(retrying_client, cloud, pauses):
    run = pipeline.Pipeline()

    def stopped_meanwhile(request, context):
        run.stop()  # as Ctrl-C while this one is on its way
        context.status_code = 503
        return ''
    cloud.delete(backup_url(A), text=stopped_meanwhile)
    with pytest.raises(errors.ApiError) as info:
        retrying_client.bound(pipeline=run).delete(A)
    assert info.value.status_code == 503
    assert len(vbs_calls(cloud)) == 1


def test_a_malformed_retry_after_is_ignored_not_fatal(retrying_client, cloud,
                                                      pauses):
    cloud.delete(backup_url(A), [
        {'status_code': 429, 'headers': {'Retry-After': '\u00b2'}},
        {'status_code': 202, 'headers': {'Retry-After': '\u00b2'}}])
    retrying_client.delete(A)
    assert len(vbs_calls(cloud)) == 2
    assert 0.25 <= pauses[0] <= 0.5  # a back-off, as without the header


def test_a_503_with_retry_after_waits_as_told(retrying_client, cloud,
                                              pauses):
    cloud.delete(backup_url(A), [
        {'status_code': 503, 'headers': {'Retry-After': '3'}},
        {'status_code': 202}])
    retrying_client.delete(A)
    assert pauses == [3.0]


def test_an_unexpected_error_is_the_requests_failure_and_frees_its_slot(
        retrying_client, cloud, monkeypatch):
    from vbsclient.api import transport

    def broken(*args, **kwargs):
        raise KeyError('surprise')
    monkeypatch.setattr(transport, 'send', broken)
    from vbsclient.api import limiter
    run = pipeline.Pipeline(limiter.FixedLimit(1))
    client = retrying_client.bound(pipeline=run)
    for _ in range(3):  # one slot: a slot kept would hang the second
        with pytest.raises(errors.VbsError, match='unexpected error'):
            client.delete(A)


def test_timeouts_are_passed_to_every_request(retrying_client, cloud):
    cloud.delete(backup_url(A), status_code=202)
    retrying_client.configured(connect_timeout=3, read_timeout=7).delete(A)
    assert cloud.last_request.timeout == (3, 7)


def test_a_401_for_a_token_renewed_meanwhile_is_sent_again(
        retrying_client, cloud, pauses):
    # Another request renewed the token while this one was on its way:
    # this one is sent again with the new token, with no login of its own.
    bulk_run = pipeline.Pipeline()
    client = retrying_client.bound(pipeline=bulk_run)
    cloud.get(backup_url(A), json={'backup': {'id': A}})
    client.get(A)  # the first token, accepted

    def renewed_meanwhile(request, context):
        tokens = bulk_run.tokens  # as a parallel renewal does
        tokens.generation += 1
        tokens._tokens[tokens.generation] = guards._Token()
        context.status_code = 401
        return ''
    cloud.delete(backup_url(A), [{'text': renewed_meanwhile},
                                 {'status_code': 202}])
    client.delete(A)
    assert len(_tokens(cloud)) == 1 and pauses == []


def test_an_endpoint_that_rejects_every_token_costs_three_logins(
        retrying_client, cloud, pauses):
    cloud.delete(backup_url(A), status_code=401, json={'error': {
        'message': 'The request you have made requires authentication.',
        'code': 401}})
    bulk_run = pipeline.Pipeline()
    client = retrying_client.bound(pipeline=bulk_run)
    with pytest.raises(errors.ApiError) as info:
        client.delete(A)
    assert info.value.status_code == 401
    assert 'requires authentication' in str(info.value)
    # The first token, and two new ones (one alone may have met an API
    # node with lagging token keys).
    assert len(vbs_calls(cloud)) == 3 and len(_tokens(cloud)) == 3
    # The run has given up: the next backup fails at once, unsent.
    with pytest.raises(errors.RunAborted) as info:
        client.delete(B)
    assert 'rejects even a new token' in str(info.value)
    assert len(vbs_calls(cloud)) == 3 and len(_tokens(cloud)) == 3


def test_a_token_that_expires_after_working_is_renewed_every_time(
        retrying_client, cloud, pauses):
    bulk_run = pipeline.Pipeline()
    client = retrying_client.bound(pipeline=bulk_run)
    for _ in range(3):  # worked, expired, renewed: three times over
        cloud.delete(backup_url(A), [{'status_code': 202},
                                     {'status_code': 401},
                                     {'status_code': 202}])
        client.delete(A)
        client.delete(A)
    assert len(_tokens(cloud)) == 4


def _tokens(cloud):
    return [r for r in cloud.request_history
            if r.url == AUTH_URL + '/auth/tokens']


def test_a_gate_holds_a_request_back_after_its_slot_and_frees_the_slot(
        retrying_client, cloud):
    import threading
    from vbsclient.api import limiter
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(backup_url(B), json={'backup': {'id': B}})
    run = pipeline.Pipeline(limiter.FixedLimit(1))
    client = retrying_client.bound(pipeline=run)
    learnt = threading.Event()
    asked = []

    def gate():  # first: wait for what is under way; then: held
        asked.append(len(vbs_calls(cloud)))
        if not learnt.is_set():
            # The one slot is free while this waits: the GET goes out.
            threading.Thread(target=lambda: (client.get(B),
                                             learnt.set())).start()
            return learnt
        return errors.Held('held back')
    with pytest.raises(errors.Held):
        client.delete(A, gate=gate)
    assert [c.method for c in vbs_calls(cloud)] == ['GET']  # no DELETE
    assert asked == [0, 1]
    # Once a gate lets a request pass, it goes out.
    client.delete(A, gate=lambda: None)
    assert [c.method for c in vbs_calls(cloud)] == ['GET', 'DELETE']
