"""Exceptions of the API client, and the parsing of server error bodies.

Every failure the client raises prints as one line that says what went
wrong, what the server said, and what the user can do about it.
"""

import html
import http
import json
import re

# What the user can do, by HTTP status (the spec's table plus throttling).
_HINTS = {
    400: "check the backup's status (--force deletes backups in other "
         "states) and that no incremental backup depends on it",
    401: "authentication failed: check your credentials or token "
         "(clouds.yaml, OS_* variables)",
    403: "permission denied: your role may not do this; ask an administrator",
    404: "not found: check the backup's name or ID, and the project and "
         "region; it may already be deleted",
    405: "the endpoint does not support this request: check the endpoint "
         "and API version (--os-vbs-endpoint-override, --os-vbs-api-version)",
    406: "the server cannot answer in a format this client accepts: check "
         "the endpoint and API version",
    407: "a proxy requires authentication: check your proxy settings",
    408: "the request timed out: try again",
    409: "the backup is busy or in a conflicting state: wait and try again",
    413: "the service is throttling requests: wait and try again",
    429: "the service is throttling requests: wait and try again",
    500: "the service failed: try again later; quote the request ID if it "
         "persists",
    501: "the service does not support this request: check the endpoint "
         "and API version (--os-vbs-endpoint-override, --os-vbs-api-version)",
    502: "the service is unavailable behind its gateway: try again later",
    503: "the service is unavailable: try again later",
    504: "the service did not answer in time: try again later",
}

_REQUEST_ID_HEADERS = ('x-openstack-request-id', 'x-compute-request-id',
                       'x-request-id')
_HTML_TITLE = re.compile(r'<title[^>]*>(.*?)</title>', re.I | re.S)
_HTML_TAG = re.compile(r'<[^>]+>')
_SPACES = re.compile(r'\s+')
_MAX_MESSAGE = 300


class VbsError(Exception):
    """Base class of everything this client raises."""


class InvalidBackupId(VbsError, ValueError):
    """A backup ID that could address something other than one backup."""


class BackupNotFound(VbsError, LookupError):
    """No backup has this name."""


class AmbiguousName(VbsError, LookupError):
    """Several backups have this name; the caller must choose by ID."""


class EndpointNotFound(VbsError):
    """No VBS endpoint could be determined."""


class TransportError(VbsError):
    """No HTTP answer: connection refused or reset, timeout, TLS failure.

    may_have_reached_server: the failure came after the request was sent
    (a reset, a read timeout), so the server may have carried it out.
    """

    def __init__(self, message, may_have_reached_server=True):
        super().__init__(message)
        self.may_have_reached_server = may_have_reached_server
        self.after_uncertain_attempt = may_have_reached_server


class ApiError(VbsError):
    """The server answered with an error status.

    Carries the HTTP status, the server's own message, the VBS error code
    (e.g. "VolumeBackup.0113") when the body has one, and the request ID.
    """

    def __init__(self, status_code, message, error_code=None,
                 request_id=None, retry_after=None,
                 after_uncertain_attempt=False):
        self.status_code = status_code
        self.message = message
        self.error_code = error_code
        self.request_id = request_id
        self.retry_after = retry_after
        # An earlier attempt of the same request failed in a way that means
        # the server may have carried it out (see vbsclient.api.retry).
        self.after_uncertain_attempt = after_uncertain_attempt
        super().__init__(str(self))

    @property
    def hint(self):
        if self.status_code in _HINTS:
            return _HINTS[self.status_code]
        return _HINTS[500] if self.status_code >= 500 else None

    def __str__(self):
        details = ['HTTP %d' % self.status_code]
        if self.error_code:
            details.append('code %s' % self.error_code)
        if self.request_id:
            details.append('request ID %s' % self.request_id)
        line = '%s (%s)' % (self.message, ', '.join(details))
        if self.hint:
            line += ': ' + self.hint
        return line

    @classmethod
    def from_response(cls, response, after_uncertain_attempt=False):
        message, error_code = _parse_body(response)
        if not message:
            message = response.reason or _status_phrase(response.status_code)
        return cls(
            status_code=response.status_code,
            message=_one_line(message),
            error_code=error_code,
            request_id=request_id_of(response),
            retry_after=response.headers.get('retry-after'),
            after_uncertain_attempt=after_uncertain_attempt,
        )


def request_id_of(response):
    """The request ID the server gave this response, if any."""
    for header in _REQUEST_ID_HEADERS:
        value = response.headers.get(header)  # case-insensitive lookup
        if value:
            return value
    return None


def _parse_body(response):
    """Return (message, vbs_error_code) from any known error body style."""
    text = response.text or ''
    if not text.strip():
        return None, None
    try:
        body = json.loads(text)
    except ValueError:
        return _message_from_text(text), None
    if not isinstance(body, dict):
        return None, None
    return _message_from_json(body)


def _message_from_json(body):
    # API gateway style: {"error_code": "...", "error_msg": "..."}
    if 'error_msg' in body or 'error_code' in body:
        return body.get('error_msg'), _code(body.get('error_code'))
    # The spec's own flat style: {"message": "...", "code": ...}
    if isinstance(body.get('message'), str):
        return body['message'], _code(body.get('code'))
    # VBS style {"error": {...}} and Cinder style {"<faultName>": {...}}:
    # a single wrapper object holding the message.
    for wrapper in body.values():
        if isinstance(wrapper, dict) and 'message' in wrapper:
            return wrapper.get('message'), _code(wrapper.get('code'))
    return None, None


def _code(value):
    # Cinder repeats the HTTP status as an integer "code"; only string codes
    # such as "VolumeBackup.0113" tell the user something new.
    return value if isinstance(value, str) and value else None


def _message_from_text(text):
    title = _HTML_TITLE.search(text)
    if title:
        return html.unescape(title.group(1))
    if '<' in text and '>' in text:
        text = _HTML_TAG.sub(' ', text)
    return html.unescape(text)


def _one_line(message):
    message = _SPACES.sub(' ', str(message)).strip()
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE - 3] + '...'
    return message


def _status_phrase(status_code):
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return 'HTTP error'
