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

"""One HTTP attempt to the VBS API, bounded in time and size.

keystoneauth sends it (token, endpoint, TLS, user agent); this module
bounds what keystoneauth and requests leave open:

- Time. A read timeout bounds each socket read, not the answer: a server
  that drips one byte a second holds a request for ever. Every attempt
  here has a deadline for the whole exchange: the time its connection
  took (at most the connect timeout), then the read timeout for the
  answer, headers and body; never past the request's own budget. One
  watchdog thread, for all attempts, shuts an attempt's socket down when
  its deadline passes.
- Size. Error bodies are read up to MAX_ERROR_BODY, success bodies up to
  MAX_BODY; what is past that is never read.
- Redirects. Never followed: a 3xx comes back as an Answer, and the
  caller decides (vbsclient.api.client refuses it). Following one would
  send the request, and the token, to whatever host Location names.
- Re-authentication. Left to the caller (vbsclient.api.guards.TokenGuard),
  so that an endpoint that rejects every token cannot cause a storm of
  logins.
"""

import dataclasses
import heapq
import itertools
import logging
import socket
import ssl
import threading
import time

from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import session as ksa_session
import requests
import urllib3

from vbsclient.api import errors
from vbsclient.api import text as safe_text

LOG = logging.getLogger(__name__)

MAX_BODY = 32 * 1024 * 1024  # a page of 1000 detailed backups is ~2 MB
MAX_ERROR_BODY = errors.MAX_ERROR_BODY
_CHUNK = 64 * 1024
_MAX_LOGGED_BODY = 1000
_GRACE = 0.2  # seconds the watchdog leaves the socket's read timeout


@dataclasses.dataclass
class Answer:
    """An HTTP answer, read whole (or up to its cap)."""

    method: str
    status: int
    reason: str
    headers: dict  # requests' case-insensitive dict
    body: bytes
    url: str
    truncated: bool = False

    @property
    def request_id(self):
        return errors.request_id_of(self.headers)

    @property
    def content_type(self):
        return (self.headers.get('content-type') or '').split(';')[0].strip()


def send(adapter, method, path, connect_timeout, read_timeout, budget=None,
         **kwargs):
    """Send one attempt; return its Answer or raise TransportError.

    The attempt ends within the time its connection took plus
    read_timeout, and within `budget` seconds (None: no more bound).
    """
    if budget is not None:
        connect_timeout = max(min(connect_timeout, budget), 0.001)
        read_timeout = max(min(read_timeout, budget), 0.001)
    with _Watchdog(connect_timeout, read_timeout, budget) as watchdog:
        try:
            response = adapter.request(
                path, method, raise_exc=False, redirect=False,
                allow_reauth=False, log=False, stream=True,
                timeout=(connect_timeout, read_timeout), **kwargs)
        except ksa_exceptions.ClientException as exc:
            raise _transport_error(exc, watchdog, read_timeout) from exc
        try:
            limit = MAX_ERROR_BODY if response.status_code >= 300 \
                else MAX_BODY
            body, truncated = _read(response, limit)
        except (requests.RequestException, urllib3.exceptions.HTTPError,
                OSError) as exc:
            raise _cut_off(exc, watchdog) from exc
        finally:
            response.close()
        if watchdog.expired:
            # Cut off by the watchdog, what was read may look complete: a
            # status line cut short at "HTTP/1.0 202" parses as an answer.
            raise _deadline_passed(watchdog)
    answer = Answer(method=method, status=response.status_code,
                    reason=response.reason or '', headers=response.headers,
                    body=body, url=response.url, truncated=truncated)
    _log(method, answer)
    return answer


def _read(response, limit):
    """The body up to `limit` bytes, and whether more was left unread.

    iter_content marks a body read to its end as consumed, so that its
    connection goes back to the pool; one cut short is closed instead.
    """
    chunks, size = [], 0
    for chunk in response.iter_content(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b''.join(chunks)[:limit], True
    return b''.join(chunks), False


def _log(method, answer):
    if not LOG.isEnabledFor(logging.DEBUG):
        return
    # Our own log line, not keystoneauth's: its log reads whole bodies.
    # Headers are not logged at all, so no token can be.
    LOG.debug('%s %s: HTTP %d (request ID %s), %d bytes%s: %s', method,
              safe_text.escape(answer.url), answer.status,
              safe_text.escape(answer.request_id), len(answer.body),
              ' (more not read)' if answer.truncated else '',
              safe_text.escape(answer.body[:_MAX_LOGGED_BODY].decode(
                  'utf-8', 'replace')))


# -- failures -----------------------------------------------------------------

def _transport_error(exc, watchdog, read_timeout):
    """One line for keystoneauth's own failures (no HTTP answer)."""
    if isinstance(exc, (ksa_exceptions.EndpointNotFound,
                        ksa_exceptions.DiscoveryFailure)):
        return errors.EndpointNotFound(str(exc))
    if isinstance(exc, ksa_exceptions.HttpError):
        # Raised while authenticating (e.g. a wrong password): keystoneauth
        # has already turned the answer into a message.
        return errors.AuthenticationFailed(
            exc.http_status, errors.one_line(exc.message),
            request_id=exc.request_id)
    causes = list(_causes(exc))
    if watchdog.expired:
        return _deadline_passed(watchdog)
    if any(isinstance(c, requests.exceptions.ReadTimeout) for c in causes):
        return errors.TransportError(
            'read timeout: no answer within %.3g s' % read_timeout,
            may_have_reached_server=True)
    # The innermost cause says what failed; keystoneauth's own text puts
    # it last, where the cap would cut it off.
    through_proxy = ' to the proxy' if any(
        isinstance(c, _PROXY_FAILURES) for c in causes) else ''
    not_sent = [c for c in causes if isinstance(c, _NOT_SENT)]
    if not_sent:
        timed_out = isinstance(exc, ksa_exceptions.ConnectTimeout)
        return errors.TransportError(
            '%s%s: %s' % ('connect timeout' if timed_out
                          else 'connection failed', through_proxy,
                          _short(not_sent[-1])),
            may_have_reached_server=False)
    if through_proxy:
        return errors.TransportError(
            'proxy failure: %s' % _short(causes[-1]),
            may_have_reached_server=False)
    if isinstance(exc, ksa_exceptions.SSLError):
        # The innermost cause says what failed (e.g. the certificate).
        reason = next((c for c in causes if isinstance(c, ssl.SSLError)),
                      exc)
        return errors.TransportError(
            'TLS failure: %s' % _short(reason),
            may_have_reached_server=False, retriable=False)
    if any(isinstance(c, _INVALID_URL) for c in causes):
        return errors.TransportError(
            'invalid URL: %s' % _short(exc), may_have_reached_server=False,
            retriable=False)
    return errors.TransportError('%s: %s' % (type(exc).__name__, _short(exc)))


def _cut_off(exc, watchdog):
    """The body broke off (or its deadline passed) after the headers came:
    the server received the request.
    """
    if watchdog.expired:
        return _deadline_passed(watchdog)
    return errors.TransportError(
        'the answer broke off: %s' % _short(exc), may_have_reached_server=True)


def _deadline_passed(watchdog):
    if watchdog.out_of_budget:
        return errors.TransportError(
            'no complete answer within %.3g s: the backup\'s time budget '
            'ran out' % watchdog.elapsed(), may_have_reached_server=True)
    return errors.TransportError(
        'no complete answer within %.3g s (the read timeout bounds the '
        'whole answer)' % watchdog.read_timeout,
        may_have_reached_server=True)


def _short(exc):
    return safe_text.cap(errors.one_line(exc), 200)


# Failures that happen before a request is sent.
_NOT_SENT = (requests.exceptions.ConnectTimeout,
             urllib3.exceptions.NewConnectionError,
             urllib3.exceptions.ConnectTimeoutError)
_PROXY_FAILURES = (requests.exceptions.ProxyError,
                   urllib3.exceptions.ProxyError)
_INVALID_URL = (requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
                urllib3.exceptions.LocationParseError)


def _causes(exc):
    """exc and everything it wraps: keystoneauth raises from requests'
    exception, which holds urllib3's in its args, which holds the socket
    error as its reason.
    """
    todo, seen = [exc], set()
    while todo:
        exc = todo.pop()
        if not isinstance(exc, BaseException) or id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        todo += [exc.__cause__, exc.__context__, getattr(exc, 'reason', None),
                 *exc.args]


# -- the deadline -------------------------------------------------------------

_current = threading.local()


class _Watchdog:
    """Shuts down the sockets of this thread's attempt when it is late.

    Each connection of the mounted adapter (see mount) hands its socket
    to the watchdog of the attempt running on its thread, and says when
    the request is sent: from then on the attempt has read_timeout left.
    Shutting a socket down wakes the blocked read, which then fails at
    once.
    """

    def __init__(self, connect_timeout, read_timeout, budget=None):
        self.read_timeout = read_timeout
        self.expired = False
        self.out_of_budget = False
        self.due = None  # time.monotonic() at which it expires
        self._started = time.monotonic()
        self._ends_by = None if budget is None else self._started + budget
        self._first = connect_timeout + read_timeout
        self._sockets = []
        self._lock = threading.Lock()

    def __enter__(self):
        _current.watchdog = self
        self._arm(self._started + self._first)
        return self

    def __exit__(self, *exc_info):
        _WATCHDOGS.cancel(self)
        _current.watchdog = None

    def elapsed(self):
        return time.monotonic() - self._started

    def sent(self):
        """The request went out on a connection: the read timeout runs.

        A little later than the socket's own read timeout, which then says
        first (and more exactly) that no answer came at all.
        """
        self._arm(time.monotonic() + self.read_timeout + _GRACE)

    def _arm(self, due):
        if self._ends_by is not None and due >= self._ends_by:
            due, self.out_of_budget = self._ends_by, True
        else:
            self.out_of_budget = False
        _WATCHDOGS.arm(self, due)

    def watch(self, sock):
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def expire(self):
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


class _Watchdogs:
    """One thread for every attempt's deadline (a thread per attempt
    would cost a thread start for every request of a run).
    """

    def __init__(self):
        self._changed = threading.Condition()
        self._due = []  # a heap of (due, n, watchdog)
        self._count = itertools.count()
        self._thread = None

    def arm(self, watchdog, due):
        with self._changed:
            watchdog.due = due
            heapq.heappush(self._due, (due, next(self._count), watchdog))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name='vbs-watchdog', daemon=True)
                self._thread.start()
            self._changed.notify()

    def cancel(self, watchdog):
        with self._changed:
            watchdog.due = None

    def _run(self):
        while True:
            with self._changed:
                late = self._next_late()
            late.expire()

    def _next_late(self):
        while True:
            while self._due and self._due[0][2].due != self._due[0][0]:
                heapq.heappop(self._due)  # re-armed or cancelled since
            if not self._due:
                self._changed.wait()
                continue
            wait = self._due[0][0] - time.monotonic()
            if wait <= 0:
                return heapq.heappop(self._due)[2]
            self._changed.wait(wait)


_WATCHDOGS = _Watchdogs()


def _shut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _watched(connection_class):
    class Watched(connection_class):
        def getresponse(self, *args, **kwargs):
            watchdog = getattr(_current, 'watchdog', None)
            if watchdog is not None and self.sock is not None:
                watchdog.watch(self.sock)
                watchdog.sent()
            return super().getresponse(*args, **kwargs)
    # urllib3's messages name the connection's class: keep urllib3's name.
    Watched.__name__ = Watched.__qualname__ = connection_class.__name__
    return Watched


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _watched(urllib3.connection.HTTPConnection)


class _TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _watched(urllib3.connection.HTTPSConnection)


_POOLS = {'http': _Pool, 'https': _TLSPool}


class _WatchedAdapter(ksa_session.TCPKeepAliveAdapter):
    """keystoneauth's own adapter, with connections the watchdog can see."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def mount(session, pool_size):
    """Give a keystoneauth session's HTTP(S) connections deadlines, and a
    pool of at least pool_size connections per host (one per worker, so
    that parallel requests reuse connections instead of opening new ones).
    """
    requests_session = session.session
    current = requests_session.get_adapter('https://')
    if isinstance(current, _WatchedAdapter) and \
            current._pool_maxsize >= pool_size:
        return
    # Keep the TLS settings keystoneauth was given, where it has any.
    tls = {name: getattr(current, name) for name in
           ('tls_ciphers', 'tls_min_version')
           if getattr(current, name, None) is not None}
    adapter = _WatchedAdapter(
        pool_maxsize=max(pool_size, requests.adapters.DEFAULT_POOLSIZE),
        **tls)
    replaced = {requests_session.get_adapter(scheme)
                for scheme in ('https://', 'http://')}
    for scheme in ('https://', 'http://'):
        requests_session.mount(scheme, adapter)
    for old in replaced:
        old.close()  # its idle connections; none is in use between runs
