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

"""An attempt's deadline (vbsclient.api.deadline): the watchdog shuts the
sockets of a late attempt, which wakes a read blocked on them.

Against real servers that drip, stall or reset: tests/cli.
"""

import socket
import threading
import time

import pytest

from vbsclient.api import deadline


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.settimeout(10)  # the socket's own timeout: far later
    yield ours
    ours.close()
    theirs.close()


def blocked_read(sock):
    """Seconds a read waited, and what it got."""
    started = time.monotonic()
    try:
        data = sock.recv(1)
    except OSError as exc:
        data = exc
    return time.monotonic() - started, data


def test_a_late_attempt_has_its_socket_shut_which_ends_the_read(pair):
    with deadline.Watchdog(0.05, 0.1) as watchdog:
        watchdog.watch(pair)
        waited, data = blocked_read(pair)
    assert data == b''  # shut down: the read ends at once
    assert 0.1 <= waited < 2  # at connect + read timeout, not at 10 s
    assert watchdog.expired and not watchdog.out_of_budget


def test_the_budget_ends_an_attempt_before_its_timeouts(pair):
    with deadline.Watchdog(5, 5, budget=0.1) as watchdog:
        watchdog.watch(pair)
        waited, _ = blocked_read(pair)
    assert waited < 2
    assert watchdog.expired and watchdog.out_of_budget


def test_once_sent_the_attempt_has_the_read_timeout_left(pair):
    with deadline.Watchdog(0.2, 0.05) as watchdog:
        time.sleep(0.1)  # a slow connection, within its timeout
        watchdog.watch(pair)
        watchdog.sent()  # re-armed: read timeout (and a grace) from now
        waited, _ = blocked_read(pair)
    # 0.05 s and the grace (0.2 s) from the send; not what was left of the
    # first deadline (0.15 s).
    assert 0.2 <= waited < 2
    assert watchdog.expired


def test_a_socket_watched_after_the_deadline_is_shut_at_once(pair):
    with deadline.Watchdog(0.01, 0.01) as watchdog:
        time.sleep(0.2)
        assert watchdog.expired
        watchdog.watch(pair)
        waited, data = blocked_read(pair)
    assert data == b'' and waited < 1


def test_an_attempt_that_ends_in_time_is_never_cut_off(pair):
    with deadline.Watchdog(0.05, 0.05) as watchdog:
        watchdog.watch(pair)
    time.sleep(0.3)  # well past the deadline it had
    assert not watchdog.expired
    pair.setblocking(False)
    with pytest.raises(BlockingIOError):  # still open: nothing to read
        pair.recv(1)


def test_one_thread_serves_the_deadlines_of_many_attempts():
    def attempt():
        with deadline.Watchdog(0.01, 0.01) as watchdog:
            time.sleep(0.1)
        results.append(watchdog.expired)
    results = []
    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 20
    assert [t.name for t in threading.enumerate()].count('vbs-watchdog') == 1
