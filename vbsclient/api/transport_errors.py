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

"""An attempt that got no (whole) HTTP answer, as one TransportError.

keystoneauth raises its own exception from requests', which holds
urllib3's, which holds the socket's: the innermost cause says what
failed, and whether the request may have reached the server. Every
message is one line, capped.
"""

import ssl

from keystoneauth1 import exceptions as ksa_exceptions
import requests
import urllib3

from vbsclient.api import errors
from vbsclient.api import text as safe_text


def from_request(exc, watchdog, read_timeout):
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
        return too_late(watchdog)
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


def from_body(exc, watchdog):
    """The body broke off (or its deadline passed) after the headers came:
    the server received the request.
    """
    if watchdog.expired:
        return too_late(watchdog)
    return errors.TransportError(
        'the answer broke off: %s' % _short(exc), may_have_reached_server=True)


def too_late(watchdog):
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
