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

"""Where the VBS API lives: an override, or the catalog entry, normalised.

Real catalogs rarely hold a ready "/v3/{project_id}" URL for VBS: Open
Telekom Cloud lists "https://vbs.eu-de.otc.t-systems.com/v2/" (another
version, no project), Huawei Cloud ".../v2/{project_id}". So a catalog URL
is cut back to its root and given the configured version and the project.
"""

import re
import urllib.parse

from keystoneauth1 import exceptions as ksa_exceptions

from vbsclient.api.errors import ConfigurationError
from vbsclient.api.errors import EndpointNotFound
from vbsclient.api import text as safe_text

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
