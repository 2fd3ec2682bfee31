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

"""What a run learns of its chains' volumes
(vbsclient.api.volume_records): each volume listed once, whatever the
number of backups of it refused together; the gate of a first DELETE.
"""

import re
import threading

from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import vbs_calls
from tests.unit.deleting import chain_ids
from tests.unit.deleting import ChainCloud
from tests.unit.deleting import FakeClock
from vbsclient.api import errors
from vbsclient.api import run as runs
from vbsclient.api import volume_records


def _volumes(client, known=None):
    run = runs.Run(client, parallel=8, clock=FakeClock())
    return run, volume_records.VolumeRecords(run, known=known)


def test_backups_of_one_chain_learnt_together_cost_one_get_and_one_list(
        client, cloud):
    chain = chain_ids(8, 50)
    ChainCloud(cloud, [chain])
    run, volumes = _volumes(client)
    threads = [threading.Thread(target=volumes.learn,
                                args=(run.for_backup(), backup_id))
               for backup_id in chain]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls = [c.url for c in vbs_calls(cloud)]
    assert len(calls) == 2, calls
    assert sum('/detail' in url for url in calls) == 1
    assert all(volumes.depended_on(b) for b in chain[:-1])
    assert not volumes.depended_on(chain[-1])
    # What was learnt serves the waits: the run knows each one's volume.
    assert set(run.sightings.volumes.values()) == {'vol-1'}


def test_a_volume_known_whole_is_not_listed_again(client, cloud):
    chain = chain_ids(3, 51)
    chain_cloud = ChainCloud(cloud, [chain])
    records = {b: chain_cloud._record(chain_cloud.backups[b]) for b in chain}
    run, volumes = _volumes(client, known=records)
    volumes.learn(run.for_backup(), chain[0])
    assert vbs_calls(cloud) == []


def test_a_list_that_failed_is_tried_again_by_a_later_learn(client, cloud):
    chain = chain_ids(2, 52)
    chain_cloud = ChainCloud(cloud, [chain])
    cloud.get(re.compile(re.escape(BACKUPS_URL) + r'/detail'), [
        {'status_code': 500, 'json': {'computeFault': {
            'message': 'broke', 'code': 500}}},
        {'json': chain_cloud._list}])
    run, volumes = _volumes(client)
    client = run.for_backup().configured(retries=0)
    try:
        volumes.learn(client, chain[0])
        raise AssertionError('the failed list was not raised')
    except errors.ApiError as exc:
        assert exc.status_code == 500
    volumes.learn(client, chain[0])
    assert volumes.depended_on(chain[0])


def test_the_gate_waits_for_a_learn_then_holds_a_parent_and_passes_others(
        client, cloud):
    chain = chain_ids(3, 53)
    chain_cloud = ChainCloud(cloud, [chain])
    run, volumes = _volumes(client)
    parent, newest = volumes.gate(chain[1]), volumes.gate(chain[2])
    assert parent() is None  # nothing learnt: it goes
    volumes._learning.add(threading.Event())  # a learn under way
    assert isinstance(volumes.gate(chain[0])(), threading.Event)
    assert parent() is None  # passed once: a retry of it goes too
    volumes._learning.clear()
    volumes.known({b: chain_cloud._record(chain_cloud.backups[b])
                   for b in chain})
    assert isinstance(volumes.gate(chain[0])(), errors.Held)
    assert newest() is None
