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

"""Behaviour that must hold at the declared minimum versions too.

tools/check-lower-bounds runs every unit test against the minimums of
requirements.txt; these tests also pin, on any installed version, the
differences between those minimums and today's releases that the plugin
has to absorb.
"""

import argparse
import os

import pytest

from vbsclient import plugin

OPTIONS = ('os_vbs_api_version', 'os_vbs_service_type',
           'os_vbs_endpoint_override', 'os_vbs_interface',
           'os_vbs_region_name')


def env_before_osc_lib_4(*names, **kwargs):
    """osc_lib.utils.env as osc-lib 2.8 to 3.x have it: '' when unset."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return kwargs.get('default', '')


@pytest.fixture
def no_vbs_variables(monkeypatch):
    for name in list(os.environ):
        if name.startswith('OS_VBS_'):
            monkeypatch.delenv(name)


def parse(argv=()):
    parser = plugin.build_option_parser(argparse.ArgumentParser())
    return parser.parse_args(list(argv))


def test_unset_variables_give_no_value_with_old_osc_lib(
        monkeypatch, no_vbs_variables):
    # None is what "not given" means to code that reads these options;
    # '' is a value that only openstacksdk's argparse merge happens to
    # drop.
    monkeypatch.setattr(plugin.utils, 'env', env_before_osc_lib_4)
    options = parse()
    assert {name: getattr(options, name) for name in OPTIONS} == \
        dict.fromkeys(OPTIONS)


def test_set_variables_still_count_with_old_osc_lib(
        monkeypatch, no_vbs_variables):
    monkeypatch.setattr(plugin.utils, 'env', env_before_osc_lib_4)
    monkeypatch.setenv('OS_VBS_SERVICE_TYPE', 'vbsv3')
    options = parse(['--os-vbs-interface', 'internal'])
    assert options.os_vbs_service_type == 'vbsv3'
    assert options.os_vbs_interface == 'internal'
    assert options.os_vbs_region_name is None


def test_an_empty_variable_counts_as_unset(monkeypatch, no_vbs_variables):
    # With the osc-lib installed, whatever its version.
    monkeypatch.setenv('OS_VBS_ENDPOINT_OVERRIDE', '')
    assert parse().os_vbs_endpoint_override is None
