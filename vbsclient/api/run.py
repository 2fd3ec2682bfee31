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

"""What the requests of one run share: a stop event, a circuit breaker,
and a guard on re-authentication.

A run is one command (or one library caller's batch). Its state ends with
it: a later run on the same client starts afresh, whatever happened
before (OSC's interactive shell runs many commands on one client).

The breaker is about the endpoint, not one backup. When it cannot work
(it rejects every token, its certificate is not trusted, its URL is not
valid) or is plainly dead (many attempts in a row got no answer), every
request still to come fails at once with the reason, instead of paying
timeouts and retries for each backup of a long list.
"""

import threading
import time

from vbsclient.api import errors
from vbsclient.api import limiter as limiter_module

now = time.monotonic

# This many attempts in a row without any answer (timeouts, refused or
# reset connections) and the endpoint counts as dead for the run.
DEAD_AFTER_FAILURES = 10
# This many new tokens rejected in a row, each before any success, and
# the endpoint counts as rejecting every token.
FRESH_TOKENS_TRIED = 2


class Run:
    """limiter: how many requests are in flight (vbsclient.api.limiter);
    none by default beyond the caller's threads.
    """

    def __init__(self, limiter=None):
        # Set to stop sending (e.g. on Ctrl-C); requests in flight end.
        self.stopping = threading.Event()
        self.limiter = limiter or limiter_module.FixedLimit(
            limiter_module.DEFAULT_MAX)
        self.tokens = TokenGuard(self)
        self._lock = threading.Lock()
        self._abort_reason = None
        self._failures_in_a_row = {}  # method -> attempts

    def check(self):
        """Raise RunAborted if the run has given up on the endpoint."""
        if self._abort_reason is not None:
            raise errors.RunAborted('not sent: ' + self._abort_reason)

    def abort(self, reason):
        with self._lock:
            if self._abort_reason is None:
                self._abort_reason = reason

    def answered(self, method):
        """An attempt got an HTTP answer: the endpoint is alive for it."""
        self._failures_in_a_row[method] = 0

    def no_answer(self, error, method):
        """An attempt got no HTTP answer (a TransportError).

        Counted per method: an endpoint that answers GETs but lets every
        DELETE hang is dead for what the run is there to do.
        """
        if not error.retriable:
            # A certificate or URL problem is the same for every backup.
            self.abort(str(error))
            return
        with self._lock:
            failures = self._failures_in_a_row.get(method, 0) + 1
            self._failures_in_a_row[method] = failures
        if failures >= DEAD_AFTER_FAILURES:
            self.abort('the VBS endpoint is not answering: %d %s attempts in '
                       'a row got no answer (the last: %s)'
                       % (failures, method, error))


class TokenGuard:
    """Re-authenticate once per token, and only for a token worth it.

    keystoneauth re-authenticates whenever a request meets a 401. Against
    an endpoint that rejects every token, parallel requests then log in
    again and again. Here a rejected token is renewed only if it is the
    current one (another request has not renewed it already), and only if
    it is the first token or one the endpoint accepted before (it expired).
    Fresh tokens rejected before any success, FRESH_TOKENS_TRIED in a row,
    mean renewing cannot help: the run aborts, with the server's message.
    One alone does not: an API node whose token keys lag behind the
    others' rejects a token the rest accept, and a run of a thousand
    backups must not end on one such answer.
    """

    def __init__(self, run):
        self._run = run
        self._lock = threading.Lock()
        self.generation = 0  # how often the token was renewed
        self._accepted = False  # the current token was accepted
        self._fresh_rejected = 0  # new tokens rejected in a row, unused

    def accepted(self, generation):
        if generation == self.generation:
            self._accepted = True
            self._fresh_rejected = 0

    def rejected(self, generation, session, answer_error):
        """A request sent with the token of `generation` got a 401.

        Return True if sending it again (with the current token) may work.
        """
        with self._lock:
            if generation != self.generation:
                return True  # renewed since it was sent
            if self.generation > 0 and not self._accepted:
                self._fresh_rejected += 1
                if self._fresh_rejected >= FRESH_TOKENS_TRIED:
                    self._run.abort('the VBS endpoint rejects even a new '
                                    'token: %s' % answer_error)
                    return False
            session.invalidate()
            self.generation += 1
            self._accepted = False
            return True
