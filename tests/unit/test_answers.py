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

"""What an answer means (vbsclient.api.answers): answers that are not
the API's.
"""

import json
import threading
import time

import pytest
import requests

from tests.unit.conftest import A
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import vbs_calls
from vbsclient.api import answers
from vbsclient.api import errors
from vbsclient.api import pipeline
from vbsclient.api import transport


GATEWAY_404 = {'error_code': 'APIGW.0101', 'error_msg': 'No such API.'}


def test_a_foreign_404_means_gone_when_the_endpoint_serves_backups(
        client, cloud):
    cloud.get(backup_url(A), status_code=404, json=GATEWAY_404)
    cloud.get(BACKUPS_URL + '?limit=1', json={'backups': []})
    run = client.bound(pipeline=pipeline.Pipeline())
    for _ in range(3):
        with pytest.raises(errors.NotFound):
            run.get(A)
    probes = [r for r in vbs_calls(cloud) if r.query == 'limit=1']
    assert len(probes) == 1  # asked once, remembered for the run
    # ...and only for the run: the next one asks again.
    with pytest.raises(errors.NotFound):
        client.bound(pipeline=pipeline.Pipeline()).get(A)
    probes = [r for r in vbs_calls(cloud) if r.query == 'limit=1']
    assert len(probes) == 2


def test_a_foreign_404_from_a_wrong_endpoint_is_not_gone(client, cloud):
    cloud.get(backup_url(A), status_code=404, json=GATEWAY_404)
    cloud.get(BACKUPS_URL + '?limit=1', status_code=404, json=GATEWAY_404)
    with pytest.raises(errors.ApiError) as info:
        client.get(A)
    assert not isinstance(info.value, errors.NotFound)
    assert 'does not look like the backup API' in str(info.value)


@pytest.mark.parametrize('answer, expected', [
    ({'status_code': 200}, 'HTTP 200, not the backup API\'s 202'),
    ({'status_code': 204}, 'HTTP 204'),
    ({'status_code': 307, 'headers': {'Location': 'https://evil.test/x'}},
     "redirect to host 'evil.test'"),
    ({'status_code': 304}, 'redirect without a location'),
])
def test_a_delete_counts_only_with_the_apis_202(client, cloud, answer,
                                                expected):
    cloud.delete(backup_url(A), **answer)
    with pytest.raises(errors.UnexpectedAnswer) as info:
        client.delete(A)
    assert expected in str(info.value)
    assert '--' not in str(info.value)  # no CLI option in the API layer


# -- answers.py on its own ---------------------------------------------------

def answer(status, body=b'', method='GET', truncated=False, **headers):
    return transport.Answer(
        method, status, 'Reason', requests.structures.CaseInsensitiveDict(
            headers), body, 'https://vbs.test/v3/p/backups/x', truncated)


@pytest.mark.parametrize('status, method, kind', [
    (200, 'GET', None), (202, 'DELETE', None), (202, 'POST', None),
    (200, 'DELETE', errors.UnexpectedAnswer),
    (202, 'GET', errors.UnexpectedAnswer),
    (302, 'GET', errors.UnexpectedAnswer),
    (400, 'DELETE', errors.ApiError), (500, 'GET', errors.ApiError),
])
def test_only_the_apis_own_success_status_is_success(status, method, kind):
    error = answers.error_of(answer(status, method=method))
    assert type(error) is kind if kind else error is None


def test_the_apis_own_not_found_is_not_found():
    body = json.dumps({'itemNotFound': {
        'message': 'Backup x could not be found.', 'code': 404}}).encode()
    assert isinstance(answers.error_of(answer(404, body)), errors.NotFound)


def test_a_redirect_names_its_host_only():
    error = answers.error_of(answer(
        301, location='https://user:s3cret@evil.test:8443/x?token=t'))
    assert "redirect to host 'evil.test:8443'" in str(error)
    assert 's3cret' not in str(error) and 'token' not in str(error)


@pytest.mark.parametrize('body, truncated, says', [
    (b'<html>gateway</html>', False, 'not JSON'),
    (b'{"backups": {}}', False, "no 'backups' list in it"),
    (b'{"backups": [{"name": "x"}]}', False, 'a backup without an ID'),
    (b'{"backups": [{"id": 7}]}', False, 'a backup without an ID'),
    (b'{"backups": [', True, 'longer than'),
])
def test_a_body_that_is_not_the_apis_list(body, truncated, says):
    got = answer(200, body, truncated=truncated, **{
        'Content-Type': 'text/html; charset=utf-8'})
    with pytest.raises(errors.UnexpectedAnswer) as info:
        answers.records(got, answers.document(got), 'backups')
    assert says in str(info.value)
    assert '(text/html, ' in str(info.value)
    assert 'the VBS endpoint is probably wrong' in str(info.value)


def test_a_404_is_probed_once_a_run():
    asked = []

    def request(method, path, params=None):
        asked.append(path)
        return answer(200, b'{"backups": []}')
    facts = {}
    foreign = errors.ApiError(404, 'No such API.')
    for _ in range(2):
        assert isinstance(answers.explain_404(foreign, request, facts),
                          errors.NotFound)
    assert asked == ['backups']


def test_backups_that_meet_a_404_together_share_one_probe():
    asked = []

    def request(method, path, params=None):
        asked.append(path)
        time.sleep(0.2)  # the others meet their 404 meanwhile
        return answer(404, b'{"error_msg": "No such API."}')
    facts = {}
    foreign = errors.ApiError(404, 'No such API.')
    found = []
    threads = [threading.Thread(target=lambda: found.append(
        answers.explain_404(foreign, request, facts))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert asked == ['backups']
    assert len(found) == 5 and not any(
        isinstance(e, errors.NotFound) for e in found)
