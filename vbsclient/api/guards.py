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

"""What a run learns about its endpoint, for every request still to come:
the breaker (the endpoint cannot work, or is plainly dead) and the token
guard (re-authenticate once per token, and only for a token worth it).

Both belong to one run (vbsclient.api.pipeline.Pipeline): a later run
starts afresh, whatever happened before (OSC's interactive shell runs
many commands on one client).
"""

import dataclasses
import threading
import time

from vbsclient.api import errors

# This many attempts in a row without any answer (timeouts, refused or
# reset connections) and the endpoint counts as dead for the run.
DEAD_AFTER_FAILURES = 10
# This many new tokens in a row, each rejected by every request sent with
# it, and the endpoint counts as rejecting every token.
FRESH_TOKENS_TRIED = 2


class Breaker:
    """When the endpoint cannot work (it rejects every token, its
    certificate is not trusted, its URL is not valid) or is plainly dead
    (many attempts in a row got no answer), every request still to come
    fails at once with the reason, instead of paying timeouts and retries
    for each backup of a long list.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._reason = None
        self._failures_in_a_row = {}  # method -> attempts

    @property
    def reason(self):
        return self._reason

    def refusal(self):
        """RunAborted if the run has given up on the endpoint, else None:
        what a request that must not be sent fails with.
        """
        if self._reason is not None:
            return errors.RunAborted('not sent: ' + self._reason)
        return None

    def abort(self, reason):
        with self._lock:
            if self._reason is None:
                self._reason = reason

    def record(self, method, answered, error=None):
        """An attempt ended: with an HTTP answer, or with `error`.

        Counted per method: an endpoint that answers GETs but lets every
        DELETE hang is dead for what the run is there to do.
        """
        if answered:
            with self._lock:
                self._failures_in_a_row[method] = 0
            return
        if isinstance(error, errors.AuthenticationFailed) \
                and error.status_code in (401, 403):
            self.abort('Keystone refused the credentials: %s' % error)
            return
        if not isinstance(error, errors.TransportError):
            return
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


@dataclasses.dataclass
class _Token:
    in_flight: int = 0
    accepted: int = 0


class TokenGuard:
    """Re-authenticate once per token, and only for a token worth it.

    keystoneauth re-authenticates whenever a request meets a 401. Against
    an endpoint that rejects every token, parallel requests then log in
    again and again. Here a rejected token is renewed only if it is the
    current one (another request has not renewed it already).

    A new token is judged only once every request sent with it has
    answered: with many in flight, a 401 can be read before the same
    token's earlier successes (an expiring token, measured: 191 of 200
    backups failed when the first 401 was taken for the verdict). New
    tokens that no request accepted, FRESH_TOKENS_TRIED in a row, mean
    renewing cannot help. One alone does not: an API node whose token
    keys lag behind the others' rejects a token the rest accept.
    """

    def __init__(self, clock=time.monotonic):
        self._changed = threading.Condition()
        self._clock = clock
        self.generation = 0  # how often the token was renewed
        self._tokens = {0: _Token()}
        self._unused_in_a_row = 0  # new tokens no request accepted

    @property
    def exhausted(self):
        """Renewing cannot help: new tokens were all rejected."""
        return self._unused_in_a_row >= FRESH_TOKENS_TRIED

    def sending(self):
        """A request goes out with the current token: its generation."""
        with self._changed:
            self._tokens[self.generation].in_flight += 1
            return self.generation

    def answered(self, generation, accepted):
        """A request of `generation` ended; accepted: its token was taken
        (an answer other than 401 that is not a gateway's fault).
        """
        with self._changed:
            token = self._tokens.get(generation)
            if token is None:
                return
            token.in_flight -= 1
            if accepted:
                token.accepted += 1
                self._unused_in_a_row = 0
            self._changed.notify_all()

    def renew(self, generation, session, stop, deadline):
        """A request sent with `generation` got a 401. Return True if
        sending it again (with the current token) may work.
        """
        with self._changed:
            if generation == self.generation and generation > 0:
                # A new token: judge it once all of its requests are in.
                while (self._tokens[generation].in_flight > 0
                       and generation == self.generation
                       and not stop.is_set()):
                    left = deadline - self._clock()
                    if left <= 0:
                        return False
                    self._changed.wait(min(left, 1.0))
                if stop.is_set():
                    return False
            if generation != self.generation:
                return True  # renewed since it was sent
            if generation > 0 and not self._tokens[generation].accepted:
                self._unused_in_a_row += 1
                if self._unused_in_a_row >= FRESH_TOKENS_TRIED:
                    return False
            session.invalidate()
            self._tokens.pop(generation - 1, None)  # no request left on it
            self.generation += 1
            self._tokens[self.generation] = _Token()
            return True

    def wake(self):
        """Wake waiting requests (the run is stopping)."""
        with self._changed:
            self._changed.notify_all()
