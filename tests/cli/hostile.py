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

"""Answers of servers that try to break a client: what API gateways,
proxies, captive portals and mistyped endpoints really send.

Each is an object with send(handler), given to FakeCloud's `misbehave`
hook. Every wait is bounded, so a test server never outlives its test.
"""

import json
import random
import socket
import threading
import time

import faultproxy


class Redirect:
    """A 3xx; with location=None, one without a Location header."""

    def __init__(self, status, location=None):
        self.status = status
        self.location = location

    def send(self, handler):
        handler.send_response(self.status)
        if self.location:
            handler.send_header('Location', self.location)
        handler.send_header('Content-Length', '0')
        handler.end_headers()


class Raw:
    """Any status, body and content type; headers as given, unchecked."""

    def __init__(self, status, body=b'', content_type='application/json',
                 headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else \
            json.dumps(body).encode()
        self.content_type = content_type
        self.headers = headers or {}

    def send(self, handler):
        handler.send_response(self.status)
        handler.send_header('Content-Type', self.content_type)
        handler.send_header('Content-Length', str(len(self.body)))
        for key, value in self.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        try:
            handler.wfile.write(self.body)
        except OSError:
            pass  # the client read what it wanted and hung up


def html_page(status=200, title='Sign in to the hotel Wi-Fi'):
    return Raw(status, ('<html><head><title>%s</title></head><body><form>'
                        '</form></body></html>' % title).encode(),
               content_type='text/html')


def cinder_error(status, fault, message, request_id='req-hostile'):
    return Raw(status, {fault: {'message': message, 'code': status}},
               headers={'x-openstack-request-id': request_id})


def unavailable():
    """A load balancer's 503: an HTML page, no Retry-After."""
    return html_page(503, '503 Service Unavailable')


def throttled(retry_after, status=429):
    """Cinder's overLimit answer, with this Retry-After header (a string,
    sent as it is, malformed or not; None: no header).
    """
    headers = {'x-openstack-request-id': 'req-throttled'}
    if retry_after is not None:
        headers['Retry-After'] = retry_after
    return Raw(status, {'overLimit': {
        'message': 'This request was rate-limited.', 'code': status}},
        headers=headers)


# -- misbehave hooks: callables (method, path) -> an answer or None -----------

def first_of(*hooks):
    """A hook that asks each of these in turn; the first answer counts."""
    def misbehave(method, path):
        for hook in hooks:
            answer = hook(method, path)
            if answer is not None:
                return answer
        return None
    return misbehave


def _vbs(path, methods, method):
    return path.startswith('/vbs/') and (methods is None
                                         or method in methods)


class Random503:
    """A share `rate` of the VBS requests (of these methods) answered with
    `answer` (default: an HTML 503 without Retry-After), drawn from a
    seeded generator. Which requests draw one depends on their order.
    """

    def __init__(self, rate, seed=0, methods=None, answer=None):
        self.rate = rate
        self.methods = methods
        self.answer = answer or unavailable()
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.faulted = 0

    def __call__(self, method, path):
        if not _vbs(path, self.methods, method):
            return None
        with self.lock:
            if self.random.random() >= self.rate:
                return None
            self.faulted += 1
        return self.answer


class Outage:
    """Every VBS request answered with `answer` (default: an HTML 503
    without Retry-After) for `seconds`, from the moment the VBS request
    after the first `after` arrives, or from trigger().

    started and ended: the outage's bounds, time.monotonic() values.
    """

    def __init__(self, seconds, after=None, answer=None):
        self.seconds = seconds
        self.after = after
        self.answer = answer or unavailable()
        self.seen = 0
        self.started = None
        self.lock = threading.Lock()

    @property
    def ended(self):
        return None if self.started is None else self.started + self.seconds

    def trigger(self):
        with self.lock:
            if self.started is None:
                self.started = time.monotonic()

    def __call__(self, method, path):
        if not path.startswith('/vbs/'):
            return None
        now = time.monotonic()
        with self.lock:
            self.seen += 1
            if self.started is None and self.after is not None \
                    and self.seen > self.after:
                self.started = now
            if self.started is not None and \
                    self.started <= now < self.started + self.seconds:
                return self.answer
        return None


class FirstAttempts:
    """The first `times` VBS requests of each path (of these methods)
    answered with `answer`; the later ones pass.
    """

    def __init__(self, answer, times=1, methods=('DELETE',)):
        self.answer = answer
        self.times = times
        self.methods = methods
        self.counts = {}
        self.lock = threading.Lock()

    def __call__(self, method, path):
        if not _vbs(path, self.methods, method):
            return None
        with self.lock:
            seen = self.counts[path] = self.counts.get(path, 0) + 1
        return self.answer if seen <= self.times else None


class Throttled:
    """An API gateway's rate limit: VBS requests (of these methods) beyond
    `rate` a second (bursts of `burst`) answered 429 with Retry-After.
    """

    def __init__(self, rate, burst=1, retry_after='1', methods=None):
        self.bucket = faultproxy.Throttle(rate, burst=burst)
        self.answer = throttled(retry_after)
        self.methods = methods
        self.refused = 0
        self.lock = threading.Lock()

    def __call__(self, method, path):
        if not _vbs(path, self.methods, method) or self.bucket.admit():
            return None
        with self.lock:
            self.refused += 1
        return self.answer


class Drip:
    """A status line and headers, then the body one byte every `interval`
    seconds, for at most `seconds` in all. With headers_too, the status
    line and headers drip as well.
    """

    def __init__(self, status=200, body=b'{"backups": []}', interval=0.2,
                 seconds=30, headers_too=False):
        self.status = status
        self.body = body
        self.interval = interval
        self.seconds = seconds
        self.headers_too = headers_too

    def send(self, handler):
        head = ('HTTP/1.0 %d Whatever\r\nContent-Type: application/json\r\n'
                'Content-Length: %d\r\n\r\n' % (self.status, len(self.body))
                ).encode()
        handler.close_connection = True
        ends = time.monotonic() + self.seconds
        try:
            if self.headers_too:
                self._drip(handler, head, ends)
            else:
                handler.wfile.write(head)
                handler.wfile.flush()
            self._drip(handler, self.body, ends)
        except OSError:
            pass  # the client hung up: what a bounded client does

    def _drip(self, handler, data, ends):
        for byte in data:
            if time.monotonic() > ends:
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(self.interval)


class Hang:
    """Read the request, then answer nothing for `seconds`, and close."""

    def __init__(self, seconds=30):
        self.seconds = seconds

    def send(self, handler):
        handler.close_connection = True
        time.sleep(self.seconds)


class Huge:
    """An error answer whose body is `size` bytes of HTML."""

    def __init__(self, status=500, size=50 * 1024 * 1024):
        self.status = status
        self.size = size

    def send(self, handler):
        handler.close_connection = True
        handler.send_response(self.status)
        handler.send_header('Content-Type', 'text/html')
        handler.send_header('Content-Length', str(self.size))
        handler.end_headers()
        chunk = b'<p>' + b'x' * (64 * 1024 - 7) + b'</p>\n'
        sent = 0
        try:
            while sent < self.size:
                piece = chunk[:self.size - sent]
                handler.wfile.write(piece)
                sent += len(piece)
        except OSError:
            pass  # the client read what it wanted and hung up


class SocketServer:
    """A bare TCP server on 127.0.0.1 that hands each connection (with a
    2 s timeout) to handle(), one at a time, and counts them.
    """

    scheme = 'http'

    def __init__(self):
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = '%s://localhost:%d' % (self.scheme, self.port)

    def __enter__(self):
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped = True
        self.thread.join(5)
        self.sock.close()

    def _serve(self):
        while not self.stopped:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(2)
                try:
                    self.handle(connection)
                except OSError:
                    pass

    def handle(self, connection):
        raise NotImplementedError


class Recorder(SocketServer):
    """A server that only records what reaches it (and answers 202): the
    host a redirect points to, which must never see a request.
    """

    def __init__(self):
        super().__init__()
        self.requests = []

    def handle(self, connection):
        self.requests.append(connection.recv(65536))
        connection.sendall(b'HTTP/1.0 202 Accepted\r\n'
                           b'Content-Length: 0\r\n\r\n')
