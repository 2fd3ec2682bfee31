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


class FakeCloud:
    """Backups held in memory; every request is recorded.

    delete_delay: seconds each DELETE takes, to make runs long enough to
    interrupt.
    misbehave: a callable (method, path) -> a tests.cli.hostile answer or
    None; the VBS requests it answers never reach the backups.
    reject_tokens: every VBS request gets 401, whatever its token.
    page_size: the most backups a list page holds (Cinder's
    osapi_max_limit); None: no such bound.
    """

    def __init__(self, delete_delay=0.0, misbehave=None, page_size=None):
        self.misbehave = misbehave
        self.reject_tokens = False
        self.page_size = page_size
        self.backups = {}
        self.volumes = {}
        self.projects = {PROJECT_ID: 'operators'}
        self.requests = []
        self.tokens_issued = []
        self.delete_delay = delete_delay
        self.lock = threading.Lock()
        handler = type('Handler', (_Handler,), {'cloud': self})
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def add_backup(self, name, **fields):
        """A backup as Cinder records it, with this name and fields: by
        default a full one, of a volume of its own, that none depends on.
        """
        backup_id = str(uuid.uuid4())
        defaults = {'status': 'available', 'volume_id': str(uuid.uuid4()),
                    'has_dependent_backups': False}
        self.backups[backup_id] = recorded.backup(
            backup_id, name=name, **dict(defaults, **fields))
        return backup_id

    def add_volume(self, name):
        volume_id = str(uuid.uuid4())
        self.volumes[volume_id] = name
        return volume_id

    def vbs_requests(self):
        return [r for r in self.requests if r[1].startswith('/vbs/')]

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


class _Handler(http.server.BaseHTTPRequestHandler):
    cloud = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._dispatch('GET')

    def do_POST(self):
        self._dispatch('POST')

    def do_DELETE(self):
        self._dispatch('DELETE')

    def _dispatch(self, method):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        self.cloud.requests.append((method, self.path, dict(self.headers)))
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split('/') if p]
        if parts[:1] == ['identity']:
            return self._identity(method, parts, body, url.query)
        if parts[:1] == ['vbs'] and self.cloud.reject_tokens:
            return self._send(401, {'error': {
                'message': 'The request you have made requires '
                           'authentication.', 'code': 401}})
        answer = self.cloud.misbehave and self.cloud.misbehave(method,
                                                               self.path)
        if answer is not None:
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
        with self.cloud.lock:
            backup = backups.get(backup_id)
            if backup is not None and method == 'DELETE':
                del backups[backup_id]
        if backup is None:
            return self._send(404, recorded.not_found('/'.join(rest)))
        if method == 'DELETE':
            return self._send(202, None)
        if method == 'GET':
            return self._send(200, {'backup': backup})
        self._send(405, None)

    def _list(self, query):
        """Cinder's list: filters, marker and limit, its next links."""
        query = _query(query)
        found = [b for b in list(self.cloud.backups.values())
                 if all(b.get(key) == query[key] for key in
                        ('name', 'status', 'volume_id') if key in query)]
        if 'marker' in query:
            ids = [b['id'] for b in found]
            if query['marker'] not in ids:
                return self._send(404,
                                  recorded.unknown_marker(query['marker']))
            found = found[ids.index(query['marker']) + 1:]
        limit = _page_size(query.get('limit'), self.cloud.page_size)
        page = found[:limit] if limit else found
        if '/detail' not in self.path:
            page = [recorded.summary(b) for b in page]
        # As Cinder: a next link after every full page, so the last page
        # of a list that fills its pages exactly is an empty one.
        following = None
        if limit and page and len(page) == limit:
            following = '%s%s?%s' % (self.cloud.url, self.path.split('?')[0],
                                     urllib.parse.urlencode(
                                         dict(query, marker=page[-1]['id'])))
        return self._send(200, recorded.backup_list(page, following))

    def _volumes(self, query):
        name = _query(query).get('name')
        return self._send(200, recorded.volume_list(
            (volume_id, volume)
            for volume_id, volume in self.cloud.volumes.items()
            if name in (None, volume)))

    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode() if body is not None else b''
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('x-openstack-request-id',
                         'req-' + str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def _query(query):
    """A query string's parameters, each once (the last one counts)."""
    return dict(urllib.parse.parse_qsl(query))


def _page_size(asked, most):
    """Cinder's page size: the limit asked for, at most osapi_max_limit."""
    sizes = [int(size) for size in (asked, most) if size]
    return min(sizes) if sizes else None
