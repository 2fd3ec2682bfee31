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

"""Exceptions of the API client (what the server's error bodies say is
read by vbsclient.api.error_bodies).

Every failure the client raises prints as one line that says what went
wrong, what the server said, and what can be done about it. The hints name
no command-line option: the CLI layer adds those (vbsclient.osc.hints).
Server text is capped here; escaping it for a terminal is the output's job.
"""

import http
import re

from vbsclient.api import error_bodies
from vbsclient.api import text as safe_text

# What can be done, by HTTP status (the spec's table plus throttling).
_HINTS = {
    400: "check the backup's status and that no incremental backup "
         "depends on it",
    401: "authentication failed: check your credentials or token",
    403: "permission denied: your role may not do this; ask an administrator",
    404: "not found: check the backup's name or ID, and the project and "
         "region; it may already be deleted",
    405: "the endpoint does not support this request: check the VBS "
         "endpoint and API version",
    406: "the server cannot answer in a format this client accepts: check "
         "the VBS endpoint and API version",
    407: "a proxy requires authentication: check your proxy settings",
    408: "the request timed out: try again",
    409: "the backup is busy or in a conflicting state: wait and try again",
    413: "the service is throttling requests: wait and try again",
    429: "the service is throttling requests: wait and try again",
    500: "the service failed: try again later; quote the request ID if it "
         "persists",
    501: "the service does not support this request: check the VBS "
         "endpoint and API version",
    502: "the service is unavailable behind its gateway: try again later",
    503: "the service is unavailable: try again later",
    504: "the service did not answer in time: try again later",
}
# What can be done, by VBS error code: a code says more than its status
# (NOTES: the deletion codes are VolumeBackup.0100 to .0125).
_CODE_HINTS = {
    'VolumeBackup.0113': 'an image was created from this backup: it cannot '
                         'be deleted, not even by force, while that image '
                         'exists; delete the image first',
    'VolumeBackup.0900': 'the service is unavailable: try again later',
    'VolumeBackup.0041': 'permission denied: ask an administrator',
    'VolumeBackup.0042': 'permission denied: ask an administrator',
    'VolumeBackup.0044': 'permission denied: ask an administrator',
}
# Cinder answers a DELETE with 404 "Service cinder-backup could not be
# found." when no backup service runs: about the service, not the backup.
_SERVICE_NOT_FOUND = re.compile(r'^service\b.{0,100}\bcould not be found',
                                re.I)
_SERVICE_404_HINT = ('the backup service is not running, so nothing was '
                     'deleted: ask the cloud\'s operators to start it')
# A 404 whose body is not the backup API's own "Backup ... could not be
# found" may come from anything at a wrong URL.
_FOREIGN_404_HINT = ('the answer is not the backup API\'s own "not found": '
                     'check the VBS endpoint')

_SPACES = re.compile(r'\s+')
_BACKUP_NOT_FOUND = re.compile(r'\bbackup\b.{0,100}\bcould not be found',
                               re.I)
MAX_MESSAGE = 300


class VbsError(Exception):
    """Base class of everything this client raises."""


class InvalidBackupId(VbsError, ValueError):
    """A backup ID that could address something other than one backup."""


class BackupNotFound(VbsError, LookupError):
    """No backup has this name."""


class AmbiguousName(VbsError, LookupError):
    """Several backups have this name; the caller must choose by ID."""


class LookupFailed(VbsError, LookupError):
    """A volume or project name that matches nothing, or that could not be
    looked up at all: name it by its ID instead.
    """


class ConfigurationError(VbsError):
    """The client's settings cannot work (an invalid endpoint override)."""


class EndpointNotFound(ConfigurationError):
    """No VBS endpoint could be determined."""


class TransportError(VbsError):
    """No HTTP answer: connection refused or reset, timeout, TLS failure.

    may_have_reached_server: the failure came after the request was sent
    (a reset, a read timeout), so the server may have carried it out.
    retriable: another attempt could succeed (not so for a certificate
    the client does not trust, or a URL that is not valid).
    """

    def __init__(self, message, may_have_reached_server=True,
                 retriable=True):
        super().__init__(message)
        self.may_have_reached_server = may_have_reached_server
        self.retriable = retriable


class ListCutShort(VbsError):
    """A list that did not end within the pages its caller allowed."""


class NotSent(VbsError):
    """A request that was never sent, and why."""


class RunAborted(NotSent):
    """Not sent: the run gave up on this endpoint (it is not answering, or
    it rejects every token), and says why.
    """


class Interrupted(NotSent):
    """Not sent: the run was stopped (Ctrl-C, SIGTERM, SIGHUP)."""


class Held(NotSent):
    """Not sent: held back, as backups depend on it (sent later, once
    they are gone: vbsclient.api.chainrun).
    """


class Unconfirmed(VbsError):
    """A request failed after one of its attempts may have been carried
    out all the same: cut off after it was sent (a reset, a timeout), or
    answered by a gateway's 502 or 504, which says nothing of whether the
    service behind it acted.

    cause: the final failure. Whoever sent the request must ask the server
    what really happened (see vbsclient.api.deletion), with at most
    retries_left retries: the request's own that it did not use.
    """

    def __init__(self, cause, retries_left=0):
        super().__init__(str(cause))
        self.cause = cause
        self.retries_left = retries_left
        self.request_id = getattr(cause, 'request_id', None)


class ApiError(VbsError):
    """The server answered with an error status.

    Carries the HTTP status, the server's own message (capped), the VBS
    error code (e.g. "VolumeBackup.0113") when the body has one, and the
    request ID.
    """

    def __init__(self, status_code, message, error_code=None,
                 request_id=None, hint=None):
        self.status_code = status_code
        self.message = message
        self.error_code = error_code
        self.request_id = request_id
        if hint is None:
            hint = _CODE_HINTS.get(error_code) or _status_hint(status_code)
        self.hint = hint
        super().__init__(str(self))

    def with_hint(self, hint, kind=None):
        """The same answer with another hint ('' for none), as an
        instance of `kind` (default: this error's class).
        """
        return (kind or type(self))(self.status_code, self.message,
                                    self.error_code, self.request_id,
                                    hint=hint)

    @property
    def summary(self):
        """What the server said, with its status, code and request ID."""
        details = ['HTTP %d' % self.status_code]
        if self.error_code:
            details.append('code %s' % self.error_code)
        if self.request_id:
            details.append('request ID %s' % self.request_id)
        return '%s (%s)' % (self.message, ', '.join(details))

    def __str__(self):
        return '%s: %s' % (self.summary, self.hint) if self.hint \
            else self.summary

    @classmethod
    def from_answer(cls, answer):
        """The error an error answer (a vbsclient.api.transport.Answer)
        stands for: NotFound for the backup API's own 404.
        """
        message, error_code = error_bodies.parse_body(answer.body)
        if not message:
            message = answer.reason or _status_phrase(answer.status)
        message = one_line(message)
        kind, hint = cls, None
        if answer.status == 404:
            if _SERVICE_NOT_FOUND.search(message):
                hint = _SERVICE_404_HINT
            elif _BACKUP_NOT_FOUND.search(message):
                kind = NotFound
            else:
                hint = _FOREIGN_404_HINT
        return kind(
            status_code=answer.status,
            message=message,
            error_code=_cap_code(error_code),
            request_id=answer.request_id,
            hint=hint,
        )


class NotGoneInTime(VbsError):
    """An accepted delete whose backup was still there when the run's
    timeout ran out; seen: what the last poll showed of it.
    """

    def __init__(self, seen, timeout):
        super().__init__('still %s after %g seconds (timeout)'
                         % (seen, timeout))


class FailedOnServer(VbsError):
    """The server accepted the delete, then failed it (error_deleting)."""


class NotFound(ApiError):
    """The backup API itself says the backup does not exist: its own
    "Backup ... could not be found", or a 404 from an endpoint that was
    seen to serve the backup API.
    """


class AuthenticationFailed(ApiError):
    """Keystone refused to issue a token (e.g. a wrong password)."""


class UnexpectedAnswer(ApiError):
    """An answer that is neither the API's success nor one of its errors:
    a redirect, another 2xx, or a body that is not the API's JSON. The
    endpoint is probably not the VBS backup API.
    """


def _cap_code(code):
    return safe_text.cap(one_line(code), 60) if code else None


def one_line(message):
    """Server text as one line of at most MAX_MESSAGE characters."""
    message = str(message)[:MAX_MESSAGE * 4]
    message = _SPACES.sub(' ', message).strip()
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 3] + '...'
    return message


def _status_hint(status_code):
    if status_code in _HINTS:
        return _HINTS[status_code]
    return _HINTS[500] if status_code >= 500 else None


def _status_phrase(status_code):
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return 'HTTP error'
