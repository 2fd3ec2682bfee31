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

"""Fault injection in front of the real Cinder: 1000 IDs, 10% faulted."""

import json
import time

import faultproxy

from tests.functional.conftest import CINDER
from tests.functional.conftest import new_id


FAULTS = ['503', '502', '504', '503-html', '502-empty', '429', '413',
          'reset-before', 'reset-after', 'slow-after', 'expire-token']


def test_a_thousand_ids_through_a_faulty_network(openstack, server, rows,
                                                 tmp_path):
    volume = new_id()
    doomed = rows(950, volume_id=volume)
    missing = [new_id() for _ in range(50)]
    bystanders = rows(20, volume_id=volume)
    ids = tmp_path / 'ids'
    ids.write_text('\n'.join(doomed + missing) + '\n')
    plan = faultproxy.RandomFaults(0.1, FAULTS, seed=11,
                                   methods={'DELETE', 'GET'})

    with faultproxy.FaultProxy(CINDER, plan=plan, slow=3.0) as proxy:
        result = openstack(
            '--os-vbs-endpoint-override', proxy.url + '/v3/%(project_id)s',
            'vbs', 'backup', 'delete', '--read-timeout', '2', '-f', 'json',
            '-', stdin=ids.read_text())
    assert proxy.count(fault=True) >= 80

    reported = json.loads(result.stdout)
    assert [r['ID'] for r in reported] == doomed + missing  # one each
    by_result = {}
    for row in reported:
        by_result.setdefault(row['Result'], []).append(row['ID'])
    assert set(by_result) <= {'deleted', 'gone', 'failed'}
    # Missing IDs are failures (or, after a cut-off attempt, gone).
    assert set(missing) <= set(by_result.get('failed', []) +
                               by_result.get('gone', []))
    assert len(by_result.get('failed', [])) - len(
        set(missing) & set(by_result.get('failed', []))) <= 5
    assert result.returncode == (1 if by_result.get('failed') else 0)

    # The outcomes agree with the server's real state afterwards.
    accepted = set(by_result.get('deleted', []) + by_result.get('gone', []))
    deadline = time.monotonic() + 120
    for backup in accepted & set(doomed):
        while server.backup(backup) is not None:
            assert time.monotonic() < deadline, backup
            time.sleep(0.2)
    for backup in set(by_result.get('failed', [])) & set(doomed):
        assert server.backup(backup)['status'] == 'available'
    for backup in bystanders:
        assert server.backup(backup)['status'] == 'available'
