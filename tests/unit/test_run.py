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

"""A run (vbsclient.api.run): one pipeline, stop, clock and deadline for
everything a command does.
"""

import threading
import time

import pytest

from tests.unit.conftest import A
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.deleting import FakeClock
from vbsclient.api import errors
from vbsclient.api import limiter
from vbsclient.api import run as runs


def test_the_runs_requests_go_through_its_one_pipeline(client, cloud):
    run = runs.Run(client)
    assert run.client._pipeline is run.for_backup()._pipeline \
        is run.pipeline
    # Its stop reaches every request: a get, a list, a lookup.
    cloud.get(backup_url(A), json={'backup': {'id': A}})
    cloud.get(BACKUPS_URL, json={'backups': []})
    run.client.get(A)
    run.stop()
    assert run.stopped and run.stopping.is_set()
    with pytest.raises(errors.Interrupted):
        run.client.get(A)
    with pytest.raises(errors.Interrupted):
        list(run.client.list())
    with pytest.raises(errors.Interrupted):
        run.for_backup().find('nightly')
    assert len(cloud.request_history) == 2  # the token, the first get


def test_a_runs_stop_stays_with_the_run(client, cloud):
    # The cloud's client is copied: the next command starts afresh.
    cloud.get(backup_url(A), json={'backup': {'id': A}})
    runs.Run(client).stop()
    assert client.get(A) == {'id': A}
    assert runs.Run(client).client.get(A) == {'id': A}


@pytest.mark.parametrize('parallel, adaptive, kind, threads', [
    (8, True, limiter.FixedLimit, 8),
    (None, True, limiter.AdaptiveLimit, limiter.DEFAULT_MAX),
    (None, False, limiter.FixedLimit, limiter.DEFAULT_MAX),
])
def test_requests_in_flight(client, parallel, adaptive, kind, threads):
    run = runs.Run(client, parallel=parallel, adaptive=adaptive)
    assert type(run.pipeline.limiter) is kind
    assert run.parallel == threads


def test_each_backup_gets_its_own_time_budget(client, monkeypatch):
    run = runs.Run(client)
    now = [100.0]
    monkeypatch.setattr(run.pipeline, 'now', lambda: now[0])
    first = run.for_backup()
    now[0] = 150.0
    second = run.for_backup()
    assert first._deadline == 100.0 + client.budget
    assert second._deadline == 150.0 + client.budget


def test_all_waiting_shares_one_deadline_from_the_first_wait(client):
    clock = FakeClock()
    run = runs.Run(client, timeout=30, clock=clock)
    clock.sleep(100)  # the deletes took a while: not counted
    assert run.wait_deadline() == 130
    clock.sleep(20)
    assert run.wait_deadline() == 130  # shared, not started again


def test_a_pause_ends_at_the_stop(client):
    run = runs.Run(client)
    threading.Timer(0.2, run.stop).start()
    started = time.monotonic()
    run.sleep(30)
    assert time.monotonic() - started < 5
