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

"""The deadline of each HTTP attempt: a socket shut down when it is late.

A read timeout bounds each socket read, not the answer: a server that
drips one byte a second holds a request for ever. A Watchdog gives an
attempt a deadline for the whole exchange: the time its connection took
(at most the connect timeout), then the read timeout for the answer,
headers and body; never past the request's own budget. One thread, for
all attempts, shuts an attempt's sockets down when its deadline passes,
which wakes the blocked read: it then fails at once.

mount() gives a keystoneauth session the connections a Watchdog can see.
"""

import heapq
import itertools
import socket
import threading
import time

from keystoneauth1 import session as ksa_session
import requests
import urllib3

_GRACE = 0.2  # seconds the watchdog leaves the socket's read timeout

_current = threading.local()


class Watchdog:
    """Shuts down the sockets of this thread's attempt when it is late
    (used as a context manager around the attempt).

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
