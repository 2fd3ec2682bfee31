#!/usr/bin/env python3
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

"""An HTTP proxy on 127.0.0.1 that counts, delays and injects faults.

Used by the fault-injection tests (in front of the local cloud's Cinder or
a small test server) and by the benchmarks (counting requests, adding
latency to model a remote region). Standard library only.

    proxy = FaultProxy('http://127.0.0.1:8776', latency=0.05)
    with proxy:
        ...  # send requests to proxy.url
    proxy.requests  # [(method, path, fault or None, status)]

    # At most 20 requests/s (bursts of 5); the rest get 429 + Retry-After: 1
    with FaultProxy(upstream, throttle=Throttle(20, burst=5)) as proxy:
        ...

Faults are chosen per request by a plan: a callable (method, path,
headers) -> fault name or None. The faults:

    503, 502, 504, 500    answered by the proxy (JSON body), nothing forwarded
    503-html, 502-empty   the same with an HTML page / an empty body
    429, 413              throttled with Retry-After, nothing forwarded
    reset-before          connection closed before forwarding: the server
                          never saw the request
    reset-after           forwarded, then the connection closed without an
                          answer: the server did the work, the client can't
                          know
    slow-after            forwarded, then the answer held back `slow` s
                          (longer than the client's read timeout)
    expire-token          the request's token is expired from now on: 401
                          for it and every later request carrying it

Throttling is not a plan but a rate: with `throttle=Throttle(rate, burst,
retry_after)`, a request that arrives when the token bucket is empty is
answered 429 with Retry-After and Cinder's overLimit body, nothing
forwarded, and recorded as fault 'throttled'. It is checked before the
plan; a throttled request takes no token.
"""

import argparse
import http.client
import http.server
import json
import random
import socket
import sys
import threading
import time
import urllib.parse

RETRY_AFTER = '1'
_HOP_BY_HOP = {'connection', 'keep-alive', 'transfer-encoding', 'te',
               'trailer', 'upgrade', 'proxy-authorization',
               'proxy-authenticate'}
_CINDER_FAULTS = {500: 'computeFault', 502: 'computeFault',
                  503: 'serviceUnavailable', 504: 'computeFault',
                  413: 'overLimit', 429: 'overLimit'}


class RandomFaults:
    """Fault `rate` of the requests, kinds drawn evenly; reproducible."""

    def __init__(self, rate, kinds, seed=0, methods=None):
        self.rate = rate
        self.kinds = list(kinds)
        self.methods = methods
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    def __call__(self, method, path, headers):
        if self.methods and method not in self.methods:
            return None
        with self.lock:
            if self.random.random() >= self.rate:
                return None
            return self.random.choice(self.kinds)


class Throttle:
    """A token bucket: `rate` requests per second, bursts of `burst`.

    It starts full, so an idle client gets its burst at once, as from a
    real API gateway; a refused request does not spend a token.
    """

    def __init__(self, rate, burst=1, retry_after=1, clock=time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError('rate must be > 0 and burst >= 1')
        self.rate = float(rate)
        self.burst = float(burst)
        # Whole seconds, as Cinder and most gateways send it.
        self.retry_after = str(int(retry_after))
        self.clock = clock
        self.tokens = self.burst
        self.last = clock()
        self.lock = threading.Lock()

    def admit(self):
        """True if a request may pass now (and spend a token)."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst,
                              self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class FaultProxy:
    def __init__(self, upstream, latency=0.0, plan=None, slow=5.0,
                 port=0, throttle=None):
        parts = urllib.parse.urlsplit(upstream)
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.latency = latency
        self.plan = plan or (lambda method, path, headers: None)
        self.slow = slow
        self.throttle = throttle
        self.requests = []
        self.expired_tokens = set()
        self.lock = threading.Lock()
        handler = type('Handler', (_Handler,), {'proxy': self})
        self.server = _Server(('127.0.0.1', port), handler)
        self.server.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def record(self, method, path, fault, status):
        with self.lock:
            self.requests.append((method, path, fault, status))

    def count(self, method=None, fault=False):
        """How many requests came in (of a method; faulted ones or not)."""
        with self.lock:
            return sum(1 for m, _, f, _ in self.requests
                       if (method is None or m == method)
                       and (fault is None or bool(f) == fault))


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that gave up on a held-back answer is part of the plan.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError,
                                              ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    proxy = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _handle(self):
        proxy = self.proxy
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        token = self.headers.get('X-Auth-Token')
        # The bucket is asked on arrival: the rate is what the client sends.
        throttled = proxy.throttle and not proxy.throttle.admit()
        fault = proxy.plan(self.command, self.path, self.headers)
        if proxy.latency:
            time.sleep(proxy.latency)
        if throttled:
            return self._throttled()
        if token and token in proxy.expired_tokens:
            fault = fault or 'expired'
            return self._answer(fault, 401, {'error': {
                'message': 'The token has expired.', 'code': 401}})
        if fault == 'expire-token' and token:
            with proxy.lock:
                proxy.expired_tokens.add(token)
            return self._answer(fault, 401, {'error': {
                'message': 'The token has expired.', 'code': 401}})
        if fault in ('503', '502', '504', '500', '429', '413'):
            status = int(fault)
            return self._answer(fault, status, {_CINDER_FAULTS[status]: {
                'message': 'Injected fault %d.' % status, 'code': status}})
        if fault == '503-html':
            return self._answer(fault, 503, '<html><head><title>503 Service '
                                'Unavailable</title></head><body>busy'
                                '</body></html>')
        if fault == '502-empty':
            return self._answer(fault, 502, None)
        if fault == 'reset-before':
            return self._reset(fault)
        status, headers, data = self._forward(body)
        if fault == 'reset-after':
            proxy.record(self.command, self.path, fault, status)
            return self._reset(None)
        if fault == 'slow-after':
            time.sleep(proxy.slow)
        proxy.record(self.command, self.path, fault, status)
        self._reply(status, headers, data)

    def _forward(self, body):
        conn = http.client.HTTPConnection(self.proxy.upstream_host,
                                          self.proxy.upstream_port,
                                          timeout=120)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in _HOP_BY_HOP and k.lower() != 'host'}
        conn.request(self.command, self.path, body=body or None,
                     headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, response.getheaders(), data

    def _throttled(self):
        after = self.proxy.throttle.retry_after
        return self._answer('throttled', 429, {'overLimit': {
            'message': 'This request was rate-limited.', 'code': 429,
            'retryAfter': after}}, retry_after=after)

    def _answer(self, fault, status, body, retry_after=RETRY_AFTER):
        self.proxy.record(self.command, self.path, fault, status)
        if isinstance(body, dict):
            data, kind = json.dumps(body).encode(), 'application/json'
        else:
            data, kind = (body or '').encode(), 'text/html'
        headers = [('Content-Type', kind),
                   ('x-openstack-request-id', 'req-proxy-%d' % id(self))]
        if status in (413, 429):
            headers.append(('Retry-After', retry_after))
        self._reply(status, headers, data)

    def _reply(self, status, headers, data):
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in _HOP_BY_HOP and \
                    key.lower() != 'content-length':
                self.send_header(key, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def _reset(self, fault):
        if fault:
            self.proxy.record(self.command, self.path, fault, None)
        # SO_LINGER 0: the client sees a reset, not a clean close.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   b'\x01\x00\x00\x00\x00\x00\x00\x00')
        self.close_connection = True
        self.connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('upstream', help='e.g. http://127.0.0.1:8776')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--latency', type=float, default=0.0,
                        help='seconds added to every request')
    parser.add_argument('--fault-rate', type=float, default=0.0)
    parser.add_argument('--faults', default='503,reset-after,429',
                        help='comma-separated fault kinds')
    parser.add_argument('--rate', type=float,
                        help='throttle: requests per second above which '
                             'the proxy answers 429 (default: no throttle)')
    parser.add_argument('--burst', type=int, default=1,
                        help='throttle: requests let through at once '
                             '(default 1)')
    parser.add_argument('--retry-after', type=int, default=1,
                        help='throttle: Retry-After in seconds (default 1)')
    args = parser.parse_args()
    plan = RandomFaults(args.fault_rate, args.faults.split(','))
    throttle = (Throttle(args.rate, args.burst, args.retry_after)
                if args.rate else None)
    with FaultProxy(args.upstream, args.latency, plan, port=args.port,
                    throttle=throttle) as p:
        print(p.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print('%d requests, %d faulted' % (p.count(fault=None),
                                               p.count(fault=True)))


if __name__ == '__main__':
    main()
