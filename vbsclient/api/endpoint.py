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

"""Where the VBS API lives: an override, or the catalog entry, normalised;
and the keystoneauth adapters that send to it (and to Keystone), each
found once and shared by a client's copies (Place).

Real catalogs rarely hold a ready "/v3/{project_id}" URL for VBS: Open
Telekom Cloud lists "https://vbs.eu-de.otc.t-systems.com/v2/" (another
version, no project), Huawei Cloud ".../v2/{project_id}". So a catalog URL
is cut back to its root and given the configured version and the project.
"""

import dataclasses
import functools
import importlib.metadata
import logging
import re
import threading
import urllib.parse

from keystoneauth1 import adapter
from keystoneauth1 import exceptions as ksa_exceptions

from vbsclient.api.errors import ConfigurationError
from vbsclient.api.errors import EndpointNotFound
from vbsclient.api.errors import one_line
from vbsclient.api import text as safe_text
from vbsclient.api import transport

LOG = logging.getLogger('vbsclient.api.client')
# Our requests' User-Agent starts with CLIENT_NAME/<version>.
CLIENT_NAME = 'python-vbsclient'
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


_VERSION_SEGMENT = re.compile(r'^v\d+(\.\d+)?$')


def normalise(catalog_url, project_id, major_version):
    """Return catalog_url as <root>/v<major_version>/<project_id>."""
    parts = urllib.parse.urlsplit(catalog_url)
    segments = [s for s in parts.path.split('/') if s]
    versions = [i for i, s in enumerate(segments) if _VERSION_SEGMENT.match(s)]
    if versions:
        # Whatever follows the version is a project ID, maybe another's.
        segments = segments[:versions[-1]]
    elif segments and segments[-1] == project_id:
        segments = segments[:-1]
    segments += ['v%s' % major_version, project_id]
    path = '/' + '/'.join(segments)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, '', ''))


def check_override(url):
    """Return an endpoint override, or raise ConfigurationError.

    keystoneauth fills the URL in with Python's %-formatting, so a "%"
    other than %(project_id)s or "%%" would fail (or, worse, format
    silently) at the first request. Credentials in the URL are refused:
    requests would send them as Basic authentication, and messages and
    logs would show them.
    """
    shown = safe_text.quoted(safe_text.without_credentials(url))
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ('http', 'https') or \
            not parts.hostname:
        raise ConfigurationError(
            'The VBS endpoint override %s is not an http(s) URL with a host.'
            % shown)
    if '@' in parts.netloc:
        raise ConfigurationError(
            'The VBS endpoint override %s contains a user name or password: '
            'remove them (the token is the credential).' % shown)
    if '%' in url.replace('%(project_id)s', '').replace('%%', ''):
        raise ConfigurationError(
            'The VBS endpoint override %s has a "%%" that is not '
            '%%(project_id)s: write a literal "%%" as "%%%%".' % shown)
    return url


def from_catalog(session, service_type, interface, region_name,
                 major_version):
    """Look the endpoint up in the catalog and normalise it."""
    try:
        catalog_url = session.get_endpoint(
            service_type=service_type, interface=interface,
            region_name=region_name)
    except ksa_exceptions.EndpointNotFound:
        catalog_url = None
    if not catalog_url:
        raise EndpointNotFound(
            'No endpoint of service type %r (region %s, interface %s) is in '
            'the service catalog: choose another service type, or set the '
            'endpoint override (clouds.yaml: vbs_service_type, '
            'vbs_endpoint_override), e.g. '
            'https://vbs.example.com/v3/%%(project_id)s.'
            % (service_type, region_name or 'any',
               _interface_text(interface)))
    return normalise(catalog_url, session.get_project_id(), major_version)


def _interface_text(interface):
    if not interface:
        return 'public'
    if isinstance(interface, (list, tuple)):
        return ' or '.join(interface)
    return interface


@dataclasses.dataclass(frozen=True)
class Where:
    """What finds the endpoints: the session and the catalog choices."""

    session: object
    api_version: str
    service_type: str
    interface: str
    region_name: str
    endpoint_override: str


class Place:
    """Where the APIs are, shared by a client and its copies: the adapters
    (each found once: VBS from the override or the catalog, Keystone from
    the catalog).
    """

    def __init__(self, where):
        self.where = self._where = where
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
            url, why = None, one_line(exc)
        else:
            why = 'none is in the service catalog'
        if not url:
            raise EndpointNotFound(
                'The identity (Keystone v3) endpoint could not be found: %s'
                % why)
        # Catalogs list Keystone as .../v3, .../v2.0 or unversioned.
        return _VERSION_AT_END.sub('', url.rstrip('/')) + '/v3'

    def _url(self):
        where = self._where
        if where.endpoint_override:
            # keystoneauth fills in %(project_id)s at request time.
            return check_override(where.endpoint_override)
        try:
            return from_catalog(
                where.session, where.service_type, where.interface,
                where.region_name, where.api_version)
        except ksa_exceptions.ClientException as exc:
            raise EndpointNotFound(
                'The VBS endpoint could not be found: %s'
                % one_line(exc)) from exc
