"""Retrying a request: back-off with jitter, Retry-After, and knowing
whether an earlier attempt may already have done the work.

keystoneauth retries too (connect_retries, status_code_retries), and this
client uses it for what it does well: re-authenticating on a 401. Its
retry loop is not used, for three reasons that matter to a bulk delete:
its back-off has no jitter (hundreds of parallel requests retry in
lockstep against a struggling API), it sleeps for whatever Retry-After
says (unbounded), and it hides whether a failed attempt may have reached
the server, which decides what a later 404 means for a DELETE.

One gap in its re-authentication is filled here: when parallel requests
meet an expired token together, the first clears the token and fetches a
new one, but the others find nothing left to clear (invalidate() answers
False) and give up with the 401. One more attempt sends the new token.
"""

import email.utils
import random
import threading
import time

import requests
import urllib3

from vbsclient.api import errors

RETRY_STATUSES = frozenset((502, 503, 504))
THROTTLE_STATUSES = frozenset((413, 429))
# A gateway's 502/504 may come after the service did the work.
UNCERTAIN_STATUSES = frozenset((502, 504))

DEFAULT_RETRIES = 4
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
MAX_RETRY_AFTER = 60.0


class RetryPolicy:
    """How often and how long to retry one request."""

    def __init__(self, retries=DEFAULT_RETRIES, stopping=None,
                 jitter=random.uniform):
        self.retries = retries
        # Set when the run is interrupted: no new attempt starts.
        self.stopping = stopping or threading.Event()
        self.jitter = jitter

    def call(self, attempt):
        """Run attempt() until it gives an answer worth keeping.

        attempt() returns a response or raises errors.TransportError. The
        final error, or an error status built from the final response by
        the caller, knows whether an earlier attempt may have done the work
        (see `uncertain` below).
        """
        uncertain = renewed = False
        number = 0
        while True:
            last = number >= self.retries
            try:
                response = attempt()
            except errors.TransportError as exc:
                uncertain = uncertain or exc.may_have_reached_server
                exc.after_uncertain_attempt = uncertain
                if last or not self._pause(self._backoff(number)):
                    raise
                number += 1
                continue
            status = response.status_code
            if status == 401 and not renewed:
                renewed = True  # see the module's doc; not a retry to count
                continue
            if last or status not in RETRY_STATUSES | THROTTLE_STATUSES:
                return response, uncertain
            if not self._pause(self._delay(response, number)):
                return response, uncertain
            uncertain = uncertain or status in UNCERTAIN_STATUSES
            number += 1

    def _pause(self, seconds):
        """Sleep before the next attempt; False if the run is stopping."""
        return not self.stopping.wait(seconds)

    def _backoff(self, number):
        ceiling = min(MAX_DELAY, FIRST_DELAY * 2 ** number)
        return self.jitter(ceiling / 2, ceiling)

    def _delay(self, response, number):
        if response.status_code in THROTTLE_STATUSES:
            wait = retry_after_seconds(response.headers.get('Retry-After'))
            if wait is not None:
                return min(wait, MAX_RETRY_AFTER)
        return self._backoff(number)


def retry_after_seconds(value, now=time.time):
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def may_have_reached_server(exc):
    """Whether a transport failure may have happened after the request
    was sent (a reset or a read timeout) rather than before (refused, or
    timed out while connecting)."""
    return not any(isinstance(e, _BEFORE_SENDING) for e in _causes(exc))


_BEFORE_SENDING = (requests.exceptions.ConnectTimeout,
                   urllib3.exceptions.NewConnectionError,
                   urllib3.exceptions.ConnectTimeoutError)


def _causes(exc):
    """exc and everything it wraps: keystoneauth raises from requests'
    exception, which holds urllib3's in its args, which holds the socket
    error as its reason."""
    todo, seen = [exc], set()
    while todo:
        exc = todo.pop()
        if not isinstance(exc, BaseException) or id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        todo += [exc.__cause__, exc.__context__, getattr(exc, 'reason', None),
                 *exc.args]
