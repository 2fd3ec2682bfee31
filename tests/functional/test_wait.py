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

"""What --wait costs the real Cinder (issue 24): requests counted in
cinder-api's own log, outcomes checked at the server.
"""

import json
import os
import pathlib
import re

from tests.functional.conftest import _tag
from tests.functional.conftest import cloud_tool
from tests.functional.conftest import REPO
from tests.functional.test_chains import chain

# cinder-api logs "<METHOD> <url>" as each request reaches it.
_REQUEST = re.compile(r' INFO cinder\.api\.openstack\.wsgi \[[^\]]*\] '
                      r'(GET|DELETE|POST) \S+/v3/[0-9a-f]{32}/backups'
                      r'(/detail|/[0-9a-f-]{36})?\b')


class ApiLog:
    """The backup requests cinder-api logs from now on, by kind."""

    def __init__(self):
        folder = os.environ.get('VBS_LOCALCLOUD_DIR') or REPO / '.localcloud'
        self.path = pathlib.Path(folder) / 'log' / 'cinder-api.log'
        self.offset = self.path.stat().st_size

    def kinds(self):
        with open(self.path, 'rb') as stream:
            stream.seek(self.offset)
            text = stream.read().decode(errors='replace')
        kinds = {'DELETE': 0, 'GET': 0, 'list': 0}
        for method, target in _REQUEST.findall(text):
            if method == 'GET' and target in ('', '/detail'):
                kinds['list'] += 1
            else:
                kinds[method] += 1
        return kinds


def deleted_with_wait(openstack, server, backups):
    """Delete the backups with --wait; check that each is gone, at the
    server; return the requests cinder-api logged for the command.
    """
    log = ApiLog()
    result = openstack('vbs', 'backup', 'delete', '--wait', *backups,
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    assert {row['Result'] for row in json.loads(result.stdout)} == {'gone'}
    kinds = log.kinds()  # before this check's own GETs
    for backup_id in backups:
        assert server.backup(backup_id) is None
    return kinds


def test_wait_on_many_backups_costs_little_more_than_their_deletes(
        openstack, server, rows):
    kinds = deleted_with_wait(openstack, server, rows(40))
    assert kinds['DELETE'] == 40
    # The project's list read before the deletes, then a page a round:
    # the rows are gone by the first round, absent, with no GET.
    assert sum(kinds.values()) <= 1.1 * 40, kinds


def test_wait_on_a_chain_polls_by_its_volume(openstack, server):
    volume = cloud_tool('seed-volume', '--name', 'wait-chain-' + _tag())
    backups = chain(volume['id'], 6)
    kinds = deleted_with_wait(openstack, server, backups)
    print('requests for a 1+6 chain:', kinds)
    # Named oldest first: the list read before the deletes shows which
    # report dependents, so each parent is held back until its
    # incremental is gone, then sent once, never refused (issue 24: at
    # most 1.5 requests a backup; 3.4 before, 14 DELETE for 7 backups).
    assert kinds['DELETE'] == len(backups), kinds
    assert sum(kinds.values()) <= 1.5 * len(backups), kinds
