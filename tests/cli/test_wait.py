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

"""What --wait costs the server (issue 24): the real `openstack` against
FakeCloud with Cinder's deletion times, requests counted at the server.
"""

import json
import time
import uuid

from tests.cli.fake_cloud import FakeCloud
from tests.cli import hostile
from tests.cli.test_openstack_shell import openstack


def cloud_deleting_in(tmp_path, seconds, **options):
    cloud = FakeCloud(delete_duration=seconds, **options)
    config = tmp_path / 'clouds.yaml'
    config.write_text(cloud.clouds_yaml())
    cloud.config_file = str(config)
    return cloud


def by_kind(cloud):
    return cloud.vbs_requests_by_kind()


def results(result):
    assert result.stdout, result.stderr
    return [row['Result'] for row in json.loads(result.stdout)]


def test_many_backups_are_waited_for_by_list_pages(tmp_path):
    with cloud_deleting_in(tmp_path, 4) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(80)]
        stays = cloud.add_backup('stays')
        result = openstack(cloud, 'vbs', 'backup', 'delete', '--wait',
                           *backups, '-f', 'json')
        ended = time.monotonic()
        assert result.returncode == 0, result.stderr
        assert results(result) == ['gone'] * 80
        kinds = by_kind(cloud)
        assert kinds['DELETE'] == 80
        # No GET a backup: a list page a round (each about 2 s).
        assert kinds['GET'] == 0
        assert 1 <= kinds['list'] <= 6
        assert sum(kinds.values()) <= 1.1 * 80
        # The end came within about an interval of the last deletion.
        last = max(r.at for r in cloud.vbs_requests() if r.method ==
                   'DELETE') + 4
        assert ended - last < 2 + 1.5
        assert set(cloud.backups) == {stays}


def test_backups_gone_at_once_cost_no_get(tmp_path):
    # The project's list, read before the deletes, saw them: absent from
    # the first round's list, they are gone.
    with cloud_deleting_in(tmp_path, 0) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(3)]
        result = openstack(cloud, 'vbs', 'backup', 'delete', '--wait',
                           *backups, '-f', 'json')
        assert result.returncode == 0, result.stderr
        assert results(result) == ['gone'] * 3
        assert by_kind(cloud) == {'DELETE': 3, 'list': 2, 'GET': 0}
        lists = [r for r in cloud.vbs_requests() if r.method == 'GET']
        deletes = [r for r in cloud.vbs_requests() if r.method == 'DELETE']
        assert lists[0].at < min(r.at for r in deletes)


def test_one_backup_is_waited_for_by_its_get(tmp_path):
    with cloud_deleting_in(tmp_path, 0) as cloud:
        backup = cloud.add_backup('alone')
        result = openstack(cloud, 'vbs', 'backup', 'delete', '--wait',
                           backup, '-f', 'json')
        assert result.returncode == 0, result.stderr
        assert by_kind(cloud) == {'DELETE': 1, 'list': 0, 'GET': 1}


def test_a_list_that_fails_leaves_it_to_the_gets(tmp_path):
    def no_lists(method, path):
        if method == 'GET' and path.split('?')[0].endswith('/detail'):
            return hostile.Raw(500, {'computeFault': {
                'code': 500, 'message': 'list broken'}})
        return None
    with cloud_deleting_in(tmp_path, 2, misbehave=no_lists) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(4)]
        result = openstack(cloud, 'vbs', 'backup', 'delete', '--wait',
                           '--retries', '0', *backups, '-f', 'json')
        assert result.returncode == 0, result.stderr
        assert results(result) == ['gone'] * 4
        kinds = by_kind(cloud)
        assert kinds['list'] == 1  # not asked for again in the run
        assert kinds['GET'] >= 4


def test_error_deleting_seen_in_a_list_is_a_failure(tmp_path):
    with cloud_deleting_in(tmp_path, 3) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(3)]
        cloud.end_in_error.add(backups[1])
        result = openstack(cloud, 'vbs', 'backup', 'delete', '--wait',
                           *backups, '-f', 'json')
        assert result.returncode == 1
        assert results(result) == ['gone', 'failed', 'gone']
        assert by_kind(cloud)['GET'] == 0


def test_a_prune_waits_by_the_list_it_planned_from(tmp_path):
    with cloud_deleting_in(tmp_path, 3) as cloud:
        for volume in range(20):
            volume_id = str(uuid.uuid4())
            for day in (1, 2, 3):
                cloud.add_backup('v%d-d%d' % (volume, day),
                                 volume_id=volume_id, created_at=(
                                     '2026-11-%02dT02:00:00' % day))
        result = openstack(cloud, 'vbs', 'backup', 'prune', '--keep-last',
                           '1', '--wait', '-f', 'json')
        assert result.returncode == 0, result.stderr
        rows = json.loads(result.stdout)
        assert sorted(r['Result'] for r in rows) == ['gone'] * 40 + [
            'kept'] * 20
        kinds = by_kind(cloud)
        assert kinds['DELETE'] == 40 and kinds['GET'] == 0
        # The planning list, then a page a round.
        assert sum(kinds.values()) <= 1.2 * 40
