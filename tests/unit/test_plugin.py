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

"""The OpenStackClient plugin contract, and how settings reach the client."""

import argparse
import subprocess
import sys

from openstack.config import loader
import pytest

from tests.unit.conftest import make_session
from vbsclient import plugin


def test_contract_attributes():
    assert plugin.API_NAME == 'vbs'
    assert plugin.API_VERSION_OPTION == 'os_vbs_api_version'
    assert plugin.DEFAULT_API_VERSION == '3'
    assert plugin.DEFAULT_API_VERSION in plugin.API_VERSIONS
    assert '2' in plugin.API_VERSIONS
    assert callable(plugin.make_client)
    assert callable(plugin.build_option_parser)


@pytest.mark.parametrize('version, accepted', [
    ('3', True), ('2', True), ('3.0', True), ('2.0', True), ('4', False)])
def test_check_api_version_never_raises(version, accepted):
    assert plugin.check_api_version(version) is accepted


def test_importing_the_plugin_loads_no_api_code():
    # OSC imports the plugin for every command: the API client, and what it
    # imports, must wait until a vbs command runs.
    code = ('import sys, vbsclient.plugin; '
            'print(sorted(m for m in sys.modules if m.startswith("vbs")))')
    out = subprocess.run([sys.executable, '-c', code], check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "['vbsclient', 'vbsclient.plugin']"


def test_options_default_to_their_environment_variables(monkeypatch):
    monkeypatch.setenv('OS_VBS_SERVICE_TYPE', 'vbsv3')
    monkeypatch.setenv('OS_VBS_API_VERSION', '2')
    parser = plugin.build_option_parser(argparse.ArgumentParser())
    options = parser.parse_args(['--os-vbs-interface', 'internal'])
    assert options.os_vbs_service_type == 'vbsv3'
    assert options.os_vbs_api_version == '2'
    assert options.os_vbs_interface == 'internal'
    assert options.os_vbs_endpoint_override is None


class FakeClientManager:
    """The parts of OSC's ClientManager that make_client reads."""

    def __init__(self, cloud_region, api_version):
        self._cli_options = cloud_region
        self._api_version = {'vbs': api_version}
        self.session = make_session()


def cloud_region(tmp_path, clouds_yaml, argv=()):
    path = tmp_path / 'clouds.yaml'
    path.write_text(clouds_yaml)
    parser = plugin.build_option_parser(argparse.ArgumentParser())
    options = parser.parse_args(list(argv))
    config = loader.OpenStackConfig(config_files=[str(path)],
                                    vendor_files=[])
    return config.get_one(cloud='mycloud', argparse=options, validate=False)


CLOUDS_YAML = """
clouds:
  mycloud:
    auth: {auth_url: 'http://keystone.test/v3', username: u, password: p}
    region_name: eu-de
    interface: public
    vbs_service_type: vbsv3
    vbs_interface: internal
    vbs_endpoint_override: 'https://vbs.test/v3/%(project_id)s'
"""


def test_clouds_yaml_settings_reach_the_client(tmp_path):
    region = cloud_region(tmp_path, CLOUDS_YAML)
    client = plugin.make_client(FakeClientManager(region, '3'))
    assert client.where.service_type == 'vbsv3'
    assert client.where.interface == 'internal'
    assert client.where.region_name == 'eu-de'
    assert client.where.endpoint_override == \
        'https://vbs.test/v3/%(project_id)s'
    assert client.where.api_version == '3'


def test_command_line_beats_clouds_yaml(tmp_path):
    region = cloud_region(tmp_path, CLOUDS_YAML, [
        '--os-vbs-service-type', 'vbs', '--os-vbs-region-name', 'eu-nl',
        '--os-vbs-endpoint-override', 'https://other.test/v2'])
    client = plugin.make_client(FakeClientManager(region, '2.0'))
    assert client.where.service_type == 'vbs'
    assert client.where.region_name == 'eu-nl'
    assert client.where.endpoint_override == 'https://other.test/v2'
    assert client.where.api_version == '2'


def test_defaults_without_vbs_settings(tmp_path):
    region = cloud_region(tmp_path, """
clouds:
  mycloud:
    auth: {auth_url: 'http://keystone.test/v3'}
    region_name: RegionOne
""")
    client = plugin.make_client(FakeClientManager(region, '3'))
    assert client.where.service_type == 'vbs'
    assert client.where.region_name == 'RegionOne'
    assert client.where.endpoint_override is None
