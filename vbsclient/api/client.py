"""The VBS backup API (native OpenStack v3, or v2) over a keystoneauth session.

Usable as a library without the CLI:

    from keystoneauth1 import session
    from vbsclient.api.client import BackupClient

    client = BackupClient(session.Session(auth=...), region_name='eu-de')
    client.delete('592a0c4d-65a3-4051-8d51-1e2b6401b2d8')

keystoneauth does authentication, token renewal, the catalog, TLS
verification and timeouts; this class only builds the requests and turns
error answers into ApiError.
"""

import logging
import threading
import urllib.parse

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import session as ksa_session
import requests

from vbsclient.api import endpoint
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import retry

LOG = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0


class BackupClient:
    """Backups of one project, at one VBS endpoint.

    retries: how often one request is retried after a connection failure,
    a 502/503/504 or throttling (413/429, waiting as Retry-After says).
    connect_timeout, read_timeout: seconds; a hung server never hangs a
    caller for longer than the read timeout per attempt.
    """

    def __init__(self, session, api_version='3', service_type='vbs',
                 interface=None, region_name=None, endpoint_override=None,
                 retries=retry.DEFAULT_RETRIES,
                 connect_timeout=DEFAULT_CONNECT_TIMEOUT,
                 read_timeout=DEFAULT_READ_TIMEOUT):
        self.session = session
        self.api_version = str(api_version).split('.')[0]
        self.service_type = service_type
        self.interface = interface
        self.region_name = region_name
        self.endpoint_override = endpoint_override
        self.retries = retries
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        # Set it to stop retrying (e.g. on Ctrl-C); requests in flight end.
        self.stopping = threading.Event()
        self._adapter = None

    # -- the endpoint ---------------------------------------------------------

    @property
    def adapter(self):
        """A keystoneauth Adapter rooted at the backups API.

        Built on first use: finding the endpoint needs a token and the
        catalog, which a command's --help never should.
        """
        if self._adapter is None:
            self._adapter = adapter.Adapter(
                self.session,
                service_type=self.service_type,
                interface=self.interface,
                region_name=self.region_name,
                endpoint_override=self._endpoint(),
                logger=LOG,
                # Retries are vbsclient.api.retry's; see why there.
                connect_retries=0,
                status_code_retries=0,
            )
        return self._adapter

    def _endpoint(self):
        if self.endpoint_override:
            # keystoneauth fills in %(project_id)s at request time.
            return self.endpoint_override
        try:
            return endpoint.from_catalog(
                self.session, self.service_type, self.interface,
                self.region_name, self.api_version)
        except ksa_exceptions.ClientException as exc:
            raise _transport_error(exc) from exc

    def allow_parallel(self, workers):
        """Let `workers` threads share the session without queueing.

        requests keeps 10 connections per host; more workers than that
        would open and drop connections instead of reusing them.
        """
        if workers <= requests.adapters.DEFAULT_POOLSIZE:
            return
        pool = ksa_session.TCPKeepAliveAdapter(pool_maxsize=workers)
        for scheme in ('https://', 'http://'):
            self.session.session.mount(scheme, pool)

    # -- operations -----------------------------------------------------------

    def delete(self, backup_id):
        """Ask for the backup's deletion; return the request ID.

        202 means accepted: the backup goes to "deleting", then disappears
        (see wait helpers in vbsclient.api.deletion).
        """
        response = self._request(
            'DELETE', 'backups/' + ids.path_segment(backup_id))
        return errors.request_id_of(response)

    def force_delete(self, backup_id):
        """Delete a backup whatever its status (admin; os-force_delete)."""
        response = self._request(
            'POST', 'backups/%s/action' % ids.path_segment(backup_id),
            json={'os-force_delete': {}})
        return errors.request_id_of(response)

    def get(self, backup_id):
        """Return the backup's record (a dict)."""
        response = self._request(
            'GET', 'backups/' + ids.path_segment(backup_id))
        return response.json()['backup']

    def find(self, name_or_id):
        """Return (backup_id, name) for a backup ID or an exact name.

        A UUID is taken as an ID and costs no request (name is then None).
        A name is looked up through the list and must match exactly one
        backup: several matches are refused, never guessed.
        """
        if ids.is_uuid(name_or_id):
            return name_or_id.lower(), None
        # Only an exact match counts, whatever the server's filter does.
        matches = [b['id'] for b in self.list(name=name_or_id)
                   if b.get('name') == name_or_id]
        if not matches:
            raise errors.BackupNotFound(
                'No backup with name or ID %r exists.' % name_or_id)
        if len(matches) > 1:
            raise errors.AmbiguousName(
                '%d backups are named %r (%s): name one by its ID.'
                % (len(matches), name_or_id, ', '.join(matches)))
        return matches[0], name_or_id

    def list(self, detailed=False, **filters):
        """Yield backups, following "backups_links" pages.

        Filters: name, status, volume_id, limit (page size), marker, and any
        other query parameter the server takes. Unset (None) ones are left
        out.
        """
        query = {k: v for k, v in filters.items() if v is not None}
        path = 'backups/detail' if detailed else 'backups'
        pages_seen = set()
        while query is not None:
            page = tuple(sorted(query.items()))
            if page in pages_seen:
                # A server whose "next" link points back would loop forever.
                raise errors.VbsError(
                    'The server sent the same backup list page twice '
                    '(%s); stopping.' % urllib.parse.urlencode(query))
            pages_seen.add(page)
            body = self._request('GET', path, params=query).json()
            yield from body.get('backups', [])
            query = _next_page_query(body)

    # -- plumbing -------------------------------------------------------------

    def _request(self, method, path, **kwargs):
        """Send with retries; raise ApiError for an error answer."""
        adapter = self.adapter  # the catalog lookup is not retried here
        policy = retry.RetryPolicy(self.retries, self.stopping)
        response, uncertain = policy.call(
            lambda: self._attempt(adapter, method, path, **kwargs))
        if response.status_code >= 400:
            raise errors.ApiError.from_response(
                response, after_uncertain_attempt=uncertain)
        return response

    def _attempt(self, adapter, method, path, **kwargs):
        try:
            # keystoneauth re-authenticates once on a 401 (expired token).
            return adapter.request(
                path, method, raise_exc=False,
                timeout=(self.connect_timeout, self.read_timeout), **kwargs)
        except ksa_exceptions.ClientException as exc:
            raise _transport_error(exc) from exc


def _next_page_query(body):
    """The query of the "next" link, or None on the last page.

    Only the query is taken: the link's host and path are the server's idea
    of its own address, which behind a proxy or gateway may not be the
    endpoint we were configured with, and our token goes where we request.
    """
    for link in body.get('backups_links') or ():
        if link.get('rel') == 'next' and link.get('href'):
            query = urllib.parse.urlsplit(link['href']).query
            return dict(urllib.parse.parse_qsl(query))
    return None


def _transport_error(exc):
    """One line for keystoneauth's own failures (no HTTP error answer)."""
    if isinstance(exc, ksa_exceptions.EndpointNotFound):
        return errors.EndpointNotFound(str(exc))
    if isinstance(exc, ksa_exceptions.HttpError):
        # Raised while authenticating (e.g. wrong password): keystoneauth has
        # already turned the answer into a message.
        return errors.ApiError(
            exc.http_status, exc.message, request_id=exc.request_id)
    return errors.TransportError(
        '%s: %s' % (type(exc).__name__, exc),
        may_have_reached_server=retry.may_have_reached_server(exc))
