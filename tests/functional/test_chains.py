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

"""Incremental chains on the real Cinder: named in any order, deleted in
one command; a chain cut short fails, naming what is in its way.
"""

import json
import random

from tests.functional.conftest import _tag
from tests.functional.conftest import cloud_tool


def chain(volume_id, incrementals):
    """A real full backup of the volume and its incrementals, oldest
    first.
    """
    made = [cloud_tool('seed-backup', '--volume', volume_id,
                       '--name', 'full-' + _tag())['id']]
    for _ in range(incrementals):
        made.append(cloud_tool('seed-backup', '--volume', volume_id,
                               '--incremental')['id'])
    return made


def test_two_chains_named_shuffled_go_in_one_command(openstack, server):
    chains = [chain(cloud_tool('seed-volume', '--name', 'chain-' + _tag())
                    ['id'], 4) for _ in range(2)]
    named = chains[0][1:] + chains[1]
    random.Random(9).shuffle(named)
    named.insert(0, chains[0][0])  # a full backup first, at the latest
    plan = openstack('vbs', 'backup', 'delete', '--dry-run', '-f', 'json',
                     *named)
    assert plan.returncode == 0, plan.stderr
    order = [row['ID'] for row in json.loads(plan.stdout)]
    assert sorted(order) == sorted(named)
    for each in chains:  # every parent after the backups that depend on it
        positions = [order.index(backup_id) for backup_id in each]
        assert positions == sorted(positions, reverse=True)
    result = openstack('vbs', 'backup', 'delete', *named, '-f', 'json')
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row['ID'] for row in rows] == named  # input order kept
    assert {row['Result'] for row in rows} <= {'deleted', 'gone'}
    for backup_id in named:  # without --wait the parents may still go
        server.wait_gone(backup_id, timeout=120)


def test_a_chain_whose_newest_incremental_is_not_named_stays(openstack,
                                                             server, volume):
    full, middle, newest = chain(volume['id'], 2)
    plan = openstack('vbs', 'backup', 'delete', '--dry-run', '-f', 'json',
                     middle, full)
    assert plan.returncode == 1
    rows = json.loads(plan.stdout)
    assert [row['Result'] for row in rows] == ['failed', 'failed']
    assert all(newest in row['Reason'] for row in rows)
    result = openstack('vbs', 'backup', 'delete', '--wait', full, middle)
    assert result.returncode == 1
    assert 'Incremental backups exist for this backup.' in result.stderr
    assert newest in result.stderr  # what keeps the chain from going
    assert '2 of 2 backups failed to delete.' in result.stderr
    # Nothing was deleted, not even what was named.
    for backup_id in (full, middle, newest):
        assert server.backup(backup_id)['status'] == 'available'
    # Named whole, the chain goes, in the order given.
    result = openstack('vbs', 'backup', 'delete', full, middle, newest)
    assert result.returncode == 0, result.stderr
    for backup_id in (full, middle, newest):
        server.wait_gone(backup_id, timeout=120)
