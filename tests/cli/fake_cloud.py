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

"""A small Keystone + VBS stand-in on 127.0.0.1, for driving the real shell.

It proves the wiring (entry points, options, catalog lookup, exit status)
without a real cloud; the functional tests do the same against real
Keystone and Cinder. Its bodies are built from answers recorded on the
real ones (tests/fixtures), so they have the same keys and shapes.
"""

import datetime
import http.server
import json
import threading
import time
import urllib.parse
import uuid

from keystoneauth1 import fixture

from tests.fixtures import recorded

PROJECT_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00'
PASSWORD = 'fake-cloud-password-53cr3t'

# Keystone's answer to a request whose token it does not accept.
UNAUTHORIZED = {'error': {
    'code': 401, 'title': 'Unauthorized',
    'message': 'The request you have made requires authentication.'}}
# Cinder's refusal to delete a backup in another status (e.g. deleting).
STATUS_REFUSED = {'badRequest': {
    'message': 'Invalid backup: Backup status must be available or error',
    'code': 400}}
# Cinder deletes only these; any other status is STATUS_REFUSED.
DELETABLE = ('available', 'error')
# Where the created_at of the backups of a chains cloud starts.
_EPOCH = datetime.datetime(2026, 1, 1)


class Request(tuple):
    """One request as it arrived: (method, path, headers), as before.

    at: its arrival, time.monotonic() (system-wide on Linux, so a test can
    set it against when it sent a signal); status: the answer's, once
    sent (None for an answer without one, e.g. a hang).
    """

    def __new__(cls, method, path, headers, at):
        request = super().__new__(cls, (method, path, headers))
        request.at = at
        request.status = None
        return request

    @property
    def method(self):
        return self[0]

    @property
    def path(self):
        return self[1]

    @property
    def headers(self):
        return self[2]


class FakeCloud:
    """Backups held in memory; every request is recorded.

    delete_delay: seconds each DELETE takes, to make runs long enough to
    interrupt.
    misbehave: a callable (method, path) -> a tests.cli.hostile answer or
    None; the VBS requests it answers never reach the backups.
    reject_tokens: every VBS request gets 401, whatever its token.
    page_size: the most backups a list page holds (Cinder's
    osapi_max_limit); None: no such bound.

    Opt-in, off by default (then a DELETE removes any backup at once):

    delete_duration: Cinder's deletion. A DELETE moves the backup to
    status "deleting", and it disappears this many seconds later (0: at
    the next request); a DELETE of a backup in any status but available
    or error is refused (400, STATUS_REFUSED). add_deleting() seeds
    backups already deleting.
    chains: Cinder's incremental chains, by Cinder's own rule
    (cinder/backup/api.py, create): an incremental backup's parent is the
    backup of its volume, among those there when it is added, with the
    latest data_timestamp among the available ones, the first such in
    Cinder's list order (created_at, then ID, descending); if that one is
    not available (none is), the backup cannot be made (ValueError, as
    Cinder's 400). add_backup numbers the backups' times unless given. A
    backup with a dependent (until that one has disappeared) shows
    has_dependent_backups true, and its DELETE is refused (400,
    "Incremental backups exist for this backup."). add_chain() makes one.
    token_lifetime: seconds a token is good for, from its issue; a VBS
    request with an expired or unknown token gets Keystone's 401. The
    token itself still says it lasts an hour: a server that expires
    tokens early (revoked, or a shorter lifetime than it announces) is
    learnt of only through the 401s, which is what a run must cope with.
    answer_headers: headers added to the VBS API's own answers (not to
    misbehave's): a dict, or a callable (method, path, status) -> dict.
    list_quirks: how the backup list answers wrongly, a set of: 'repeat'
    (every record twice on its page), 'overlap' (a page starts with the
    record its marker names: pages overlap by one), 'loose-name' (the
    name filter matches any name that contains it), 'ignore-<filter>'
    (name, status or volume_id: that filter is ignored), and
    'links-drop-filters' (next links carry only marker and limit).
    end_in_error: IDs of backups whose deletion ends in status
    error_deleting instead of their disappearance (delete_duration).

    Every request is recorded (requests: Request tuples, with arrival
    time and status); tokens_issued and token_issued_at say when tokens
    were issued, tokens_rejected how many requests met an expired one.
    """

    def __init__(self, delete_delay=0.0, misbehave=None, page_size=None,
                 delete_duration=None, chains=False, token_lifetime=None,
                 answer_headers=None):
        self.misbehave = misbehave
        self.reject_tokens = False
        self.page_size = page_size
        self.backups = {}
        self.volumes = {}
        self.projects = {PROJECT_ID: 'operators'}
        self.requests = []
        self.tokens_issued = []
        self.token_issued_at = {}  # token -> time.monotonic() of its issue
        self.tokens_rejected = 0
        self.delete_delay = delete_delay
        self.delete_duration = delete_duration
        self.chains = chains
        self.token_lifetime = token_lifetime
        self.answer_headers = answer_headers
        self.list_quirks = set()
        self.end_in_error = set()
        self.parents = {}   # incremental backup ID -> its parent's ID
        self.vanish_at = {}  # backup ID -> when it disappears (monotonic)
        self._made = 0      # backups numbered so far (chains)
        self.lock = threading.Lock()
        handler = type('Handler', (_Handler,), {'cloud': self})
        self.server = _Server(('127.0.0.1', 0), handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def add_backup(self, name, backup_id=None, **fields):
        """A backup as Cinder records it, with this name and fields: by
        default a full one, of a volume of its own, that none depends on.
        backup_id: its ID (default: a new UUID).
        """
        backup_id = backup_id or str(uuid.uuid4())
        defaults = {'status': 'available', 'volume_id': str(uuid.uuid4()),
                    'has_dependent_backups': False}
        if self.chains:
            # Each made after the one before, as a chain needs.
            self._made += 1
            made = (_EPOCH + datetime.timedelta(seconds=self._made)
                    ).strftime('%Y-%m-%dT%H:%M:%S.%f')
            made = fields.get('created_at') or made
            defaults.update(created_at=made, updated_at=made,
                            data_timestamp=made, is_incremental=False)
        record = recorded.backup(backup_id, name=name,
                                 **dict(defaults, **fields))
        with self.lock:
            if self.chains and record.get('is_incremental'):
                self.parents[backup_id] = self._parent_of(record)
            self.backups[backup_id] = record
        return backup_id

    def add_deleting(self, name, vanish_after=None, **fields):
        """A backup already in status "deleting", which disappears
        `vanish_after` seconds from now (None: never).
        """
        backup_id = self.add_backup(name, status='deleting', **fields)
        if vanish_after is not None:
            with self.lock:
                self.vanish_at[backup_id] = time.monotonic() + vanish_after
        return backup_id

    def add_chain(self, incrementals, name='chain', volume_id=None):
        """One full backup of a volume and `incrementals` incremental ones
        after it, each depending on the one before; their IDs, oldest
        first. Turns Cinder's chain rule (chains) on.
        """
        self.chains = True
        volume_id = volume_id or str(uuid.uuid4())
        chain = [self.add_backup('%s-full' % name, volume_id=volume_id)]
        for n in range(1, incrementals + 1):
            chain.append(self.add_backup('%s-incr-%d' % (name, n),
                                         volume_id=volume_id,
                                         is_incremental=True))
        return chain

    def remaining(self):
        """The IDs of the backups the server still holds."""
        with self.lock:
            self._expire()
            return set(self.backups)

    def dependents(self, backup_id):
        """IDs of the backups that depend on this one (chains)."""
        return [child for child, parent in self.parents.items()
                if parent == backup_id and child in self.backups]

    def _parent_of(self, record):
        """Cinder's choice of a new incremental backup's parent: written
        from cinder/backup/api.py (create), not from the client's model.
        """
        listed = sorted((b for b in self.backups.values()
                         if b['volume_id'] == record['volume_id']),
                        key=lambda b: (b.get('created_at') or '', b['id']),
                        reverse=True)
        if not listed:
            raise ValueError('No backups available to do an incremental '
                             'backup.')
        # Python's max, like Cinder's, keeps the first of equal keys.
        latest = max(listed, key=lambda b: b.get('data_timestamp') or ''
                     if b.get('status') == 'available' else '')
        if latest.get('status') != 'available':
            raise ValueError('No backups available to do an incremental '
                             'backup.')
        return latest['id']

    def _expire(self):
        """Remove the backups whose deletion has ended (under the lock)."""
        now = time.monotonic()
        for backup_id, when in list(self.vanish_at.items()):
            if when <= now:
                del self.vanish_at[backup_id]
                if backup_id in self.end_in_error:
                    self.backups[backup_id]['status'] = 'error_deleting'
                    continue
                self.backups.pop(backup_id, None)
                self.parents.pop(backup_id, None)

    def _refusal(self, backup):
        """Cinder's 400 body for deleting this backup now, or None."""
        if self.delete_duration is not None and \
                backup.get('status') not in DELETABLE:
            return STATUS_REFUSED
        if self.chains and self.dependents(backup['id']):
            return recorded.incremental_backups_exist()
        return None

    def _start_deletion(self, backup_id):
        """A DELETE accepted (under the lock)."""
        if self.delete_duration is None:
            del self.backups[backup_id]
            self.parents.pop(backup_id, None)
            return
        self.backups[backup_id]['status'] = 'deleting'
        self.vanish_at[backup_id] = time.monotonic() + self.delete_duration
        if not self.delete_duration:
            self._expire()

    def shown(self, backup):
        """The record as the API shows it now."""
        if not self.chains:
            return backup
        return dict(backup, has_dependent_backups=bool(
            self.dependents(backup['id'])))

    def token_accepted(self, token, at):
        """Whether a VBS request with this token, arrived at `at`, is."""
        if self.token_lifetime is None:
            return True
        issued = self.token_issued_at.get(token)
        return issued is not None and at - issued < self.token_lifetime

    def add_volume(self, name):
        volume_id = str(uuid.uuid4())
        self.volumes[volume_id] = name
        return volume_id

    def vbs_requests(self):
        return [r for r in self.requests if r[1].startswith('/vbs/')]

    def vbs_requests_by_kind(self):
        """The VBS requests counted: DELETE, GET of one backup, GET of a
        list page ('list'), and any other method.
        """
        kinds = {'DELETE': 0, 'GET': 0, 'list': 0}
        for method, path, _ in self.vbs_requests():
            route = path.split('?')[0].rstrip('/')
            if method == 'GET' and route.endswith(('/backups', '/detail')):
                kinds['list'] += 1
            else:
                kinds[method] = kinds.get(method, 0) + 1
        return kinds

    def identity_requests(self):
        return [r for r in self.requests if r[1].startswith('/identity/')]

    def clouds_yaml(self, **settings):
        cloud = {
            **settings,
            'auth': {'auth_url': self.url + '/identity/v3',
                     'username': 'operator', 'password': PASSWORD,
                     'project_id': PROJECT_ID,
                     'user_domain_id': 'default'},
            'region_name': 'RegionOne',
            'identity_api_version': '3',
        }
        return json.dumps({'clouds': {'fake': cloud}})

    def library_client(self, **settings):
        """The API client, as a library caller would make it."""
        from keystoneauth1.identity import v3
        from keystoneauth1 import session

        from vbsclient.api import client
        auth = v3.Password(auth_url=self.url + '/identity/v3',
                           username='operator', password=PASSWORD,
                           project_id=PROJECT_ID, user_domain_id='default')
        return client.BackupClient(session.Session(auth=auth), **settings)

    def token_body(self):
        token = fixture.V3Token(project_id=PROJECT_ID)
        service = token.add_service('vbs')
        # Shaped as Open Telekom Cloud's catalog: another version, no project.
        service.add_standard_endpoints(public=self.url + '/vbs/v2/',
                                       region='RegionOne')
        token.add_service('identity').add_standard_endpoints(
            public=self.url + '/identity/v3', region='RegionOne')
        return token


class _Server(http.server.ThreadingHTTPServer):
    # Room for a run's parallel connections (the default backlog is 5:
    # with more, connections wait for SYN retransmits, a second each).
    request_queue_size = 128


class _Handler(http.server.BaseHTTPRequestHandler):
    cloud = None
    _record = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._dispatch('GET')

    def do_POST(self):
        self._dispatch('POST')

    def do_DELETE(self):
        self._dispatch('DELETE')

    def _dispatch(self, method):
        arrived = time.monotonic()
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self._record = Request(method, self.path, dict(self.headers),
                               arrived)
        self.cloud.requests.append(self._record)
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split('/') if p]
        if parts[:1] == ['identity']:
            return self._identity(method, parts, body, url.query)
        if parts[:1] == ['vbs'] and self.cloud.reject_tokens:
            return self._send(401, {'error': {
                'message': 'The request you have made requires '
                           'authentication.', 'code': 401}})
        if parts[:1] == ['vbs'] and not self.cloud.token_accepted(
                self.headers.get('X-Auth-Token'), arrived):
            with self.cloud.lock:
                self.cloud.tokens_rejected += 1
            return self._send(401, UNAUTHORIZED)
        answer = self.cloud.misbehave and self.cloud.misbehave(method,
                                                               self.path)
        if answer is not None:
            self._record.status = getattr(answer, 'status', None)
            return answer.send(self)
        if parts[:1] == ['vbs'] and len(parts) >= 4 and parts[3] == 'backups':
            return self._backups(method, parts[4:], url.query)
        if parts[:1] == ['vbs'] and parts[3:] == ['volumes'] \
                and method == 'GET':
            return self._volumes(url.query)
        self._send(404, {'itemNotFound': {'message': 'No such path.'}})

    def _identity(self, method, parts, body, query):
        if method == 'GET' and parts == ['identity', 'v3', 'projects']:
            name = _query(query).get('name')
            return self._send(200, recorded.project_list(
                (project_id, project)
                for project_id, project in self.cloud.projects.items()
                if name in (None, project)))
        if method == 'POST' and parts[-2:] == ['auth', 'tokens']:
            # A new token each time, as Keystone does (an expired one must
            # not come back).
            token = 'gAAAAAB-fake-token-%s' % uuid.uuid4().hex
            with self.cloud.lock:
                self.cloud.tokens_issued.append(token)
                self.cloud.token_issued_at[token] = time.monotonic()
            return self._send(201, self.cloud.token_body(),
                              {'X-Subject-Token': token})
        versions = fixture.DiscoveryList(href=self.cloud.url + '/identity/',
                                         v2=False)
        if parts == ['identity', 'v3']:
            return self._send(200, {'version': versions['versions']
                                    ['values'][0]})
        return self._send(300, versions)

    def _backups(self, method, rest, query):
        backups = self.cloud.backups
        if method == 'GET' and rest in ([], ['detail']):
            return self._list(query)
        backup_id = rest[0] if len(rest) == 1 else None
        if method == 'DELETE' and self.cloud.delete_delay:
            time.sleep(self.cloud.delete_delay)
        refusal = None
        with self.cloud.lock:
            self.cloud._expire()
            backup = backups.get(backup_id)
            if backup is not None and method == 'DELETE':
                refusal = self.cloud._refusal(backup)
                if refusal is None:
                    self.cloud._start_deletion(backup_id)
            elif backup is not None:
                backup = self.cloud.shown(backup)
        if backup is None:
            return self._send(404, recorded.not_found('/'.join(rest)))
        if refusal is not None:
            return self._send(400, refusal)
        if method == 'DELETE':
            return self._send(202, None)
        if method == 'GET':
            return self._send(200, {'backup': backup})
        self._send(405, None)

    def _list(self, query):
        """Cinder's list: filters, marker and limit, its next links."""
        query = _query(query)
        quirks = self.cloud.list_quirks
        applied = [key for key in ('name', 'status', 'volume_id')
                   if key in query and 'ignore-' + key not in quirks]
        with self.cloud.lock:
            self.cloud._expire()
            found = [self.cloud.shown(b)
                     for b in list(self.cloud.backups.values())
                     if all(_matches(b, key, query[key], quirks)
                            for key in applied)]
        if 'marker' in query:
            ids = [b['id'] for b in found]
            if query['marker'] not in ids:
                return self._send(404,
                                  recorded.unknown_marker(query['marker']))
            start = ids.index(query['marker'])
            found = found[start if 'overlap' in quirks else start + 1:]
        limit = _page_size(query.get('limit'), self.cloud.page_size)
        page = found[:limit] if limit else found
        if '/detail' not in self.path:
            page = [recorded.summary(b) for b in page]
        # As Cinder: a next link after every full page, so the last page
        # of a list that fills its pages exactly is an empty one.
        following = None
        if limit and page and len(page) == limit:
            linked = dict(query, marker=page[-1]['id'])
            if 'links-drop-filters' in quirks:
                linked = {k: v for k, v in linked.items()
                          if k in ('marker', 'limit')}
            following = '%s%s?%s' % (self.cloud.url, self.path.split('?')[0],
                                     urllib.parse.urlencode(linked))
        if 'repeat' in quirks:
            page = [record for record in page for _ in (1, 2)]
        return self._send(200, recorded.backup_list(page, following))

    def _volumes(self, query):
        name = _query(query).get('name')
        return self._send(200, recorded.volume_list(
            (volume_id, volume)
            for volume_id, volume in self.cloud.volumes.items()
            if name in (None, volume)))

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode() if body is not None else b''
        if self._record is not None:
            self._record.status = status
            extra = self.cloud.answer_headers
            if callable(extra) and self.path.startswith('/vbs/'):
                extra = extra(self.command, self.path, status)
            if extra and self.path.startswith('/vbs/'):
                headers = dict(headers or {}, **extra)
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('x-openstack-request-id',
                         'req-' + str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _matches(record, key, value, quirks):
    """Whether a record passes a list filter, as this server applies it."""
    if key == 'name' and 'loose-name' in quirks:
        return value in (record.get('name') or '')
    return record.get(key) == value


def _query(query):
    """A query string's parameters, each once (the last one counts)."""
    return dict(urllib.parse.parse_qsl(query))


def _page_size(asked, most):
    """Cinder's page size: the limit asked for, at most osapi_max_limit."""
    sizes = [int(size) for size in (asked, most) if size]
    return min(sizes) if sizes else None
