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

- Time. Every attempt has a deadline for the whole exchange, not only
  for each socket read (vbsclient.api.deadline); never past the
  request's own budget.
- Size. Error bodies are read up to MAX_ERROR_BODY, success bodies up to
  MAX_BODY; what is past that is never read.
- Redirects. Never followed: a 3xx comes back as an Answer, and the
  caller decides (vbsclient.api.client refuses it). Following one would
  send the request, and the token, to whatever host Location names.
- Re-authentication. Left to the caller (vbsclient.api.guards.TokenGuard),
  so that an endpoint that rejects every token cannot cause a storm of
  logins.

An attempt with no whole answer raises TransportError
(vbsclient.api.transport_errors says which).
"""

import dataclasses
import logging

from keystoneauth1 import exceptions as ksa_exceptions
import requests
import urllib3

from vbsclient.api import deadline
from vbsclient.api import error_bodies
from vbsclient.api import text as safe_text
from vbsclient.api import transport_errors

LOG = logging.getLogger(__name__)

MAX_BODY = 32 * 1024 * 1024  # a page of 1000 detailed backups is ~2 MB
MAX_ERROR_BODY = error_bodies.MAX_ERROR_BODY
MAX_REQUEST_ID = 100
_REQUEST_ID_HEADERS = ('x-openstack-request-id', 'x-compute-request-id',
                       'x-request-id')
_CHUNK = 64 * 1024
_MAX_LOGGED_BODY = 1000

# Connections with deadlines, and a pool per worker, for a session.
mount = deadline.mount


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
        """The request ID the server gave the answer, if any (capped)."""
        for header in _REQUEST_ID_HEADERS:
            value = self.headers.get(header)  # case-insensitive lookup
            if value:
                return safe_text.cap(value, MAX_REQUEST_ID)
        return None

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
    watchdog = deadline.Watchdog(connect_timeout, read_timeout, budget)
    with watchdog:
        try:
            response = adapter.request(
                path, method, raise_exc=False, redirect=False,
                allow_reauth=False, log=False, stream=True,
                timeout=(connect_timeout, read_timeout), **kwargs)
        except ksa_exceptions.ClientException as exc:
            raise transport_errors.from_request(
                exc, watchdog, read_timeout) from exc
        try:
            limit = MAX_ERROR_BODY if response.status_code >= 300 \
                else MAX_BODY
            body, truncated = _read(response, limit)
        except (requests.RequestException, urllib3.exceptions.HTTPError,
                OSError) as exc:
            raise transport_errors.from_body(exc, watchdog) from exc
        finally:
            response.close()
        if watchdog.expired:
            # Cut off by the watchdog, what was read may look complete: a
            # status line cut short at "HTTP/1.0 202" parses as an answer.
            raise transport_errors.too_late(watchdog)
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
