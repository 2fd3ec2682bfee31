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

"""The OpenStackClient plugin contract, and nothing else.

OpenStackClient imports this module for every command a user runs, vbs or
not, so it imports nothing beyond what OSC has already loaded; the API
client is imported only when a vbs command asks for it (make_client).
"""

import logging

from osc_lib import utils

LOG = logging.getLogger(__name__)

API_NAME = 'vbs'
# The clouds.yaml key is "vbs_api_version", the same one python-otcextensions
# reads (with its default "2"): both majors work, so a shared setting of "2"
# keeps our commands available, served by the native v2 API.
API_VERSION_OPTION = 'os_vbs_api_version'
DEFAULT_API_VERSION = '3'
API_VERSIONS = ('2', '3')
DEFAULT_SERVICE_TYPE = 'vbs'


def check_api_version(version):
    """Accept '2', '3', '2.0', '3.0'; let OSC warn about anything else.

    Returning True skips OSC's own API_VERSIONS check; returning False
    keeps it, so an unknown version gets OSC's usual warning rather than
    an exception that would break every other command too.
    """
    return _major(version) in API_VERSIONS


def _major(version):
    return str(version).split('.')[0]


def make_client(instance):
    """Return a BackupClient configured from the user's cloud settings."""
    from vbsclient.api import client  # deferred: keep start-up cheap

    cloud = instance._cli_options
    major = _major(instance._api_version[API_NAME])
    LOG.debug('Instantiating VBS client for API version %s', major)
    return client.BackupClient(
        session=instance.session,
        api_version=major,
        service_type=cloud.get_service_type(DEFAULT_SERVICE_TYPE),
        interface=cloud.get_interface(DEFAULT_SERVICE_TYPE),
        region_name=cloud.get_region_name(DEFAULT_SERVICE_TYPE),
        endpoint_override=cloud.get_endpoint(DEFAULT_SERVICE_TYPE),
        # clouds.yaml's api_timeout, as for every other service; a
        # command's --read-timeout overrides it.
        read_timeout=_api_timeout(cloud, client.DEFAULT_READ_TIMEOUT),
    )


def _api_timeout(cloud, default):
    try:
        timeout = float(cloud.config.get('api_timeout'))
    except (TypeError, ValueError, AttributeError):
        return default
    return timeout if 0 < timeout < float('inf') else default


def build_option_parser(parser):
    """Add the global --os-vbs-* options.

    Each defaults to its OS_VBS_* variable, and openstacksdk maps every
    one to the clouds.yaml key without the "os_" prefix (vbs_service_type,
    ...), so command line, environment and clouds.yaml reach the same
    setting.
    """
    options = (
        ('api-version', '<vbs-api-version>',
         'VBS API major version, 3 (default) or 2'),
        ('service-type', '<service-type>',
         'Service type of the VBS endpoint in the catalog (default: vbs)'),
        ('endpoint-override', '<url>',
         'VBS endpoint to use instead of the catalog, up to but not '
         'including "/backups"; may contain %%(project_id)s'),
        ('interface', '<interface>',
         'Catalog interface of the VBS endpoint (public, internal, admin)'),
        ('region-name', '<region-name>',
         'Region of the VBS endpoint (default: the cloud\'s region)'),
    )
    for name, metavar, help_text in options:
        env = 'OS_VBS_' + name.upper().replace('-', '_')
        parser.add_argument(
            '--os-vbs-' + name,
            metavar=metavar,
            # An unset or empty variable means no value: osc-lib before
            # 4.0 returns '' for it, later ones None.
            default=utils.env(env) or None,
            help='%s (Env: %s)' % (help_text, env),
        )
    return parser
