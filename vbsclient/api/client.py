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

"""The VBS backup API (native OpenStack v3, or v2) over a keystoneauth session.

Usable as a library without the CLI:

    from keystoneauth1 import session
    from vbsclient.api.client import BackupClient

    client = BackupClient(session.Session(auth=...), region_name='eu-de')
    client.delete('592a0c4d-65a3-4051-8d51-1e2b6401b2d8')

keystoneauth does authentication, the catalog, TLS verification and the
user agent; every request goes through the run's pipeline
(vbsclient.api.pipeline: limits, retries, tokens, stop, deadlines); this
class builds the requests, checks that each answer is the API's own, and
turns the rest into errors. It knows nothing of retries, tokens or
limits.
"""

import copy
import dataclasses
import functools
import importlib.metadata
import json
import logging
import re
import threading
import urllib.parse

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ksa_exceptions

from vbsclient.api import endpoint
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import listing
from vbsclient.api import pipeline as api_pipeline
from vbsclient.api import retry
from vbsclient.api import text as safe_text
from vbsclient.api import transport

LOG = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
# A request, retries and pauses included, ends within this many attempts'
# time (connect + read timeout each); so does each backup of a bulk delete.
BUDGET_IN_ATTEMPTS = 3
# A backup list that has not ended after this many pages never will.
MAX_PAGES = 10000
# What each call answers when it succeeds (the spec's "normal" status).
_SUCCESS = {'GET': 200, 'DELETE': 202, 'POST': 202}
# Our requests' User-Agent starts with CLIENT_NAME/<version>.
CLIENT_NAME = 'python-vbsclient'
# Keystone's own project IDs: a UUID's 32 hexadecimal digits.
_PROJECT_ID = re.compile(r'[0-9a-f]{32}\Z')
_VERSION_AT_END = re.compile(r'/v[0-9.]+\Z')


@functools.lru_cache(maxsize=None)
def client_version():
    """This package's version (None when it is not installed), read once,
    when the first request is made rather than when OSC loads plugins.
    """
    try:
        return importlib.metadata.version(CLIENT_NAME)
    except importlib.metadata.PackageNotFoundError:
        return None


class BackupClient:
    """Backups of one project, at one VBS endpoint.

    retries: how often one request is retried after a connection failure,
    a 502/503/504 or throttling (413/429, waiting as Retry-After says).
    connect_timeout, read_timeout: seconds; together they bound a whole
    attempt, and BUDGET_IN_ATTEMPTS of them a whole request.

    configured() and bound() return copies that share the endpoint (and
    its connections) but not their settings or run state.
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
        self._place = _Place(_Where(
            session, self.api_version, service_type, interface, region_name,
            endpoint_override))
        self._pipeline = None  # None: each request is a run of its own
        self._deadline = None  # the pipeline's now() by which to give up

    def configured(self, retries=None, connect_timeout=None,
                   read_timeout=None):
        """A copy with other network settings (None: keep this one's)."""
        other = copy.copy(self)
        for name, value in (('retries', retries),
                            ('connect_timeout', connect_timeout),
                            ('read_timeout', read_timeout)):
            if value is not None:
                setattr(other, name, value)
        return other

    def bound(self, pipeline=None, deadline=None):
        """A copy whose requests go through `pipeline` (one run's: a
        vbsclient.api.pipeline.Pipeline) and give up at `deadline` (a
        value of the pipeline's now()).
        """
        other = copy.copy(self)
        other._pipeline = pipeline if pipeline is not None \
            else self._pipeline
        other._deadline = deadline
        return other

    @property
    def pipeline(self):
        """The run's pipeline this copy is bound to, or None."""
        return self._pipeline

    @property
    def budget(self):
        """Seconds one request (or one backup of a bulk delete) may take."""
        return BUDGET_IN_ATTEMPTS * (self.connect_timeout + self.read_timeout)

    # -- the endpoint ---------------------------------------------------------

    def check_endpoint(self):
        """Find the endpoint now; raise ConfigurationError if none works.

        Costs a token (and the catalog), not a request to VBS.
        """
        self._place.adapter()

    def allow_parallel(self, workers):
        """Let `workers` threads share the session without queueing for
        connections (requests keeps 10 per host by default).
        """
        transport.mount(self.session, workers)

    # -- operations -----------------------------------------------------------

    def delete(self, backup_id):
        """Ask for the backup's deletion; return the request ID.

        202 means accepted: the backup goes to "deleting", then disappears
        (see the waiting in vbsclient.api.deletion). Raises Unconfirmed when
        the request failed after an earlier attempt was cut off.
        """
        return self._request(
            'DELETE', 'backups/' + ids.path_segment(backup_id)).request_id

    def force_delete(self, backup_id):
        """Delete a backup whatever its status (admin; os-force_delete)."""
        return self._request(
            'POST', 'backups/%s/action' % ids.path_segment(backup_id),
            json={'os-force_delete': {}}).request_id

    def get(self, backup_id):
        """Return the backup's record (a dict).

        Raises NotFound only when the API itself says the backup does not
        exist: a 404 from a wrong endpoint is an error of its own.
        """
        path = 'backups/' + ids.path_segment(backup_id)
        try:
            answer = self._request('GET', path)
        except errors.ApiError as exc:
            if exc.status_code == 404 and not isinstance(exc, errors.NotFound):
                raise self._explain_404(exc)
            raise
        return _field(answer, _json(answer), 'backup', dict)

    def find(self, name_or_id, **filters):
        """Return (backup_id, name) for a backup ID or an exact name.

        A UUID is taken as an ID and costs no request (name is then None).
        A name is looked up through the list (with these list filters,
        e.g. all_tenants) and must match exactly one backup: several
        matches are refused, never guessed.
        """
        if ids.is_uuid(name_or_id):
            return name_or_id.lower(), None
        # Only an exact match counts, whatever the server's filter does
        # (listing.trusted).
        matches = [b['id'] for b in self.list(name=name_or_id, **filters)]
        if not matches:
            raise errors.BackupNotFound(
                'No backup with name or ID %s exists.'
                % safe_text.quoted(name_or_id))
        return _only(matches, 'backups', name_or_id), name_or_id

    def list(self, detailed=False, **filters):
        """Yield backups, following "backups_links" pages: each backup
        once, and only those that match name, status and volume_id, as
        their records show them (vbsclient.api.listing), whatever the
        server's filters did.

        Filters: name, status, volume_id, limit (page size), marker,
        all_tenants and project_id (admin), and any other query parameter
        the server takes. Unset (None) ones are left out. Every record has
        a string "id".
        """
        path = 'backups/detail' if detailed else 'backups'
        return listing.trusted(self._pages(path, 'backups', filters),
                               filters, detailed)

    def find_volume(self, name_or_id, **filters):
        """Return the ID of a volume given by ID or exact name.

        A UUID is taken as an ID and costs no request. A name is looked up
        through Cinder's volume list on the same endpoint (with these
        filters, e.g. all_tenants) and must match exactly one volume.
        Raises errors.LookupFailed when none matches or the endpoint has no
        volume API, AmbiguousName when several do.
        """
        if ids.is_uuid(name_or_id):
            return name_or_id.lower()
        try:
            matches = [v['id'] for v in self._pages(
                'volumes', 'volumes', dict(filters, name=name_or_id))
                if v.get('name') == name_or_id]
        except errors.ApiError as exc:
            raise _lookup_failed('volume', name_or_id, exc) from exc
        if not matches:
            raise errors.LookupFailed('No volume with name or ID %s exists.'
                                      % safe_text.quoted(name_or_id))
        return _only(matches, 'volumes', name_or_id)

    def find_project(self, name_or_id):
        """Return the ID of a project given by ID or exact name.

        An ID (32 hexadecimal digits, or a UUID) costs no request. A name
        is looked up in Keystone (listing projects is usually for admins)
        and must match exactly one project (names repeat across domains).
        """
        if _PROJECT_ID.match(name_or_id) or ids.is_uuid(name_or_id):
            return name_or_id
        try:
            answer = self._request('GET', 'projects',
                                   params={'name': name_or_id},
                                   service=self._place.identity())
            projects = _field(answer, _json(answer), 'projects', list)
        except (errors.ApiError, errors.EndpointNotFound) as exc:
            raise _lookup_failed('project', name_or_id, exc) from exc
        matches = [p['id'] for p in projects if isinstance(p, dict)
                   and p.get('name') == name_or_id
                   and isinstance(p.get('id'), str)]
        if not matches:
            raise errors.LookupFailed(
                'No project with name or ID %s exists (or you may not list '
                'projects).' % safe_text.quoted(name_or_id))
        return _only(matches, 'projects', name_or_id)

    def _pages(self, path, key, filters):
        """Yield the records of a list, following its "<key>_links"."""
        query = first = {k: v for k, v in filters.items() if v is not None}
        noun = key[:-1]  # "backups" -> "backup"
        pages_seen = set()
        while query is not None:
            page = tuple(sorted(query.items()))
            if page in pages_seen:
                # A server whose "next" link points back would loop forever.
                raise errors.VbsError(
                    'The server sent the same %s list page twice; '
                    'stopping.' % noun)
            if len(pages_seen) >= MAX_PAGES:
                raise errors.VbsError(
                    'The server\'s %s list did not end after %d pages; '
                    'stopping.' % (noun, MAX_PAGES))
            pages_seen.add(page)
            answer = self._request('GET', path, params=query)
            document = _json(answer)
            records = _records(answer, document, key)
            yield from records
            query = _next_page_query(document, key, first)
            if query is not None and not records:
                # An empty page cannot be followed by more records.
                raise errors.VbsError(
                    'The server sent an empty %s list page with a link '
                    'to a next one; stopping.' % noun)

    # -- plumbing -------------------------------------------------------------

    def _request(self, method, path, service=None, **kwargs):
        """Send through the run's pipeline; return the answer or raise its
        error.

        service: the adapter to send through (default: the VBS endpoint's).
        A request that changes something (not a GET) and fails after an
        earlier attempt of it was cut off raises Unconfirmed: it may have
        been carried out, whatever the final answer says.
        """
        pipeline = self._pipeline or api_pipeline.Pipeline()
        # Not retried: finding the endpoint is a setting, not a fault.
        place = service or self._place.adapter()
        deadline = self._deadline
        if deadline is None:
            deadline = pipeline.now() + self.budget
        settings = api_pipeline.Settings(
            self.retries, self.connect_timeout, self.read_timeout)
        final = pipeline.send(place, method, path, settings, deadline,
                              **kwargs)
        error = final.error or self._answer_error(final.answer)
        if error is None:
            return final.answer
        if final.may_have_acted and method != 'GET' \
                and not isinstance(error, errors.NotSent):
            raise errors.Unconfirmed(error, final.retries_left)
        raise error

    def _explain_404(self, exc):
        """A 404 whose body is not the API's own "not found": NotFound if
        the endpoint serves backups, else an error that says it looks
        wrong.
        """
        if self._serves_backups():
            return exc.with_hint(None, errors.NotFound)
        return exc.with_hint(
            'the VBS endpoint does not look like the backup API (a backup '
            'list there fails too): check the VBS endpoint')

    def _serves_backups(self):
        """List one backup; True if the answer is the API's own list.

        Asked like any request of the run (its limits, stop and deadline),
        and remembered for the run only, never for the client's lifetime.
        """
        facts = self._pipeline.facts if self._pipeline else {}
        known = facts.get('serves_backups')
        if known is None:
            try:
                answer = self._request('GET', 'backups', params={'limit': 1})
                _records(answer, _json(answer), 'backups')
                known = True
            except errors.ApiError:
                known = False
            except errors.VbsError:
                return False  # no answer: unknown, asked again later
            facts['serves_backups'] = known
        return known

    def _answer_error(self, answer):
        """None for the API's success status; else the error it stands for."""
        if answer.status >= 400:
            return errors.ApiError.from_answer(answer)
        if 300 <= answer.status < 400:
            return _redirect_error(answer)
        method = answer.method
        if answer.status != _SUCCESS.get(method, 200):
            return errors.UnexpectedAnswer(
                answer.status,
                'The endpoint answered %s with HTTP %d, not the backup API\'s '
                '%d' % (method, answer.status, _SUCCESS.get(method, 200)),
                request_id=answer.request_id,
                hint='the VBS endpoint is probably wrong')
        return None


@dataclasses.dataclass(frozen=True)
class _Where:
    """What finds the endpoints: the session and the catalog choices."""

    session: object
    api_version: str
    service_type: str
    interface: str
    region_name: str
    endpoint_override: str


class _Place:
    """Where the APIs are, shared by a client and its copies: the adapters
    (each found once: VBS from the override or the catalog, Keystone from
    the catalog).
    """

    def __init__(self, where):
        self._where = where
        self._adapter = None
        self._identity = None
        self._lock = threading.Lock()

    def adapter(self):
        if self._adapter is not None:
            return self._adapter
        with self._lock:
            if self._adapter is None:
                url = self._url()
                transport.mount(self._where.session, 1)
                self._adapter = self._new_adapter(
                    self._where.service_type, url)
            return self._adapter

    def identity(self):
        """Keystone's v3 API (for project names): raises EndpointNotFound
        when the catalog has none.
        """
        with self._lock:
            if self._identity is None:
                url = self._identity_url()
                self._identity = self._new_adapter('identity', url)
            return self._identity

    def _new_adapter(self, service_type, url):
        where = self._where
        return adapter.Adapter(
            where.session,
            service_type=service_type,
            interface=where.interface,
            region_name=where.region_name,
            endpoint_override=url,
            logger=LOG,
            # Retries are the pipeline's (vbsclient.api.retry says why).
            connect_retries=0,
            status_code_retries=0,
            # The User-Agent names us, for whoever reads the API's logs.
            client_name=CLIENT_NAME,
            client_version=client_version(),
        )

    def _identity_url(self):
        """Keystone's v3 root, from the catalog alone: no version
        discovery, so no request beyond those our timeouts bound.
        """
        where = self._where
        try:
            url = where.session.get_endpoint(
                service_type='identity', interface=where.interface,
                region_name=where.region_name)
        except ksa_exceptions.ClientException as exc:
            url, why = None, errors.one_line(exc)
        else:
            why = 'none is in the service catalog'
        if not url:
            raise errors.EndpointNotFound(
                'The identity (Keystone v3) endpoint could not be found: %s'
                % why)
        # Catalogs list Keystone as .../v3, .../v2.0 or unversioned.
        return _VERSION_AT_END.sub('', url.rstrip('/')) + '/v3'

    def _url(self):
        where = self._where
        if where.endpoint_override:
            # keystoneauth fills in %(project_id)s at request time.
            return endpoint.check_override(where.endpoint_override)
        try:
            return endpoint.from_catalog(
                where.session, where.service_type, where.interface,
                where.region_name, where.api_version)
        except ksa_exceptions.ClientException as exc:
            raise errors.EndpointNotFound(
                'The VBS endpoint could not be found: %s'
                % errors.one_line(exc)) from exc


def _redirect_error(answer):
    location = answer.headers.get('location')
    if location:
        try:
            target = urllib.parse.urljoin(answer.url, location)
            host = urllib.parse.urlsplit(target).netloc.rsplit('@', 1)[-1]
        except ValueError:
            host = location
        where = 'a redirect to host %s' % safe_text.quoted(
            host or location, 100)
    else:
        where = 'a redirect without a location'
    return errors.UnexpectedAnswer(
        answer.status,
        'The endpoint answered with %s, which was not followed' % where,
        request_id=answer.request_id,
        hint='the VBS endpoint is probably wrong')


def _field(answer, document, key, kind):
    """document[key] of a JSON answer, which must be a `kind`."""
    value = document.get(key) if isinstance(document, dict) else None
    if not isinstance(value, kind):
        raise _malformed(answer, 'no %r %s in it' % (key, kind.__name__))
    return value


def _records(answer, document, key):
    """The list of records of a list answer; each has a string ID."""
    records = _field(answer, document, key, list)
    for record in records:
        if not isinstance(record, dict) or \
                not isinstance(record.get('id'), str):
            raise _malformed(answer, 'a %s without an ID in it' % key[:-1])
    return records


def _only(matches, things, name):
    """The one ID a name matched; AmbiguousName when it matched several."""
    if len(matches) > 1:
        raise errors.AmbiguousName(
            '%d %s are named %s (%s): name one by its ID.'
            % (len(matches), things, safe_text.quoted(name),
               safe_text.cap(', '.join(matches), 1000)))
    return matches[0]


def _lookup_failed(thing, name, exc):
    """A lookup's failure as one line that says what to do instead."""
    reason = str(exc)
    if isinstance(exc, errors.ApiError):
        # Its own hint is about backups; ours is below.
        reason = str(exc.with_hint(''))
    return errors.LookupFailed(
        'The %s name %s could not be looked up: %s. Name the %s by its ID.'
        % (thing, safe_text.quoted(name), reason, thing))


def _json(answer):
    try:
        return json.loads(answer.body.decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise _malformed(answer, 'not JSON: %s' % safe_text.cap(
            errors.one_line(exc), 80)) from None


def _malformed(answer, what):
    kind = answer.content_type or 'no content type'
    if answer.truncated:
        what = 'longer than %d bytes' % transport.MAX_BODY
    return errors.UnexpectedAnswer(
        answer.status,
        'The answer to %s is not the backup API\'s (%s, %s)'
        % (answer.method, safe_text.cap(kind, 60), what),
        request_id=answer.request_id,
        hint='the VBS endpoint is probably wrong')


def _next_page_query(document, key, first):
    """The query of the "next" link, or None on the last page.

    Only the query is taken: the link's host and path are the server's idea
    of its own address, which behind a proxy or gateway may not be the
    endpoint we were configured with, and our token goes where we request.
    A filter of the first query that the link drops is sent again: the
    next page is of the same list.
    """
    links = document.get(key + '_links') or ()
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get('rel') == 'next' \
                and isinstance(link.get('href'), str) and link['href']:
            query = urllib.parse.urlsplit(link['href']).query
            return dict(first, **dict(urllib.parse.parse_qsl(query)))
    return None
