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

"""Runbooks at scale against the real cloud: pipelines, idempotence, dry
runs, structured results, list paging and show.
"""

import json

from tests.functional.conftest import new_id

MISSING = '0d6f4c59-5d0c-4a39-a1a4-5f0000000000'


def test_list_into_delete_pipeline_over_200_backups(shell, server, rows,
                                                    tmp_path):
    volume = new_id()
    doomed = set(rows(200, status='error', volume_id=volume))
    spared_same_volume = rows(3, volume_id=volume)       # not in error
    spared_other_volume = rows(3, status='error')        # another volume
    ids_file = tmp_path / 'ids'

    result = shell(
        'openstack vbs backup list --volume %s --status error -f value -c ID'
        ' | tee %s | openstack vbs backup delete --wait -' % (volume,
                                                              ids_file))
    assert result.returncode == 0, result.stderr
    assert set(ids_file.read_text().split()) == doomed
    for backup in doomed:
        assert server.backup(backup) is None
    for backup in spared_same_volume + spared_other_volume:
        assert server.backup(backup) is not None

    # The same IDs again: all really gone, so --ignore-missing exits 0...
    again = shell('openstack vbs backup delete --ignore-missing -f json - < %s'
                  % ids_file)
    assert again.returncode == 0, again.stderr
    rows_out = json.loads(again.stdout)
    assert len(rows_out) == 200
    assert {r['Result'] for r in rows_out} == {'already-missing'}
    # ...and without it, every one is a failure.
    strict = shell('openstack vbs backup delete - < %s' % ids_file)
    assert strict.returncode == 1
    assert strict.stderr.strip().splitlines()[-1] == \
        '200 of 200 backups failed to delete.'


def test_ignore_missing_does_not_hide_a_refusal(openstack, server, rows):
    [busy] = rows(1, status='creating')
    result = openstack('vbs', 'backup', 'delete', '--ignore-missing',
                       busy, MISSING)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == \
        '1 of 2 backups failed to delete.'
    assert server.backup(busy)['status'] == 'creating'


def test_dry_run_leaves_everything_in_place(shell, server, rows):
    volume = new_id()
    backups = rows(20, volume_id=volume)
    result = shell('openstack vbs backup list --volume %s -f value -c ID | '
                   'openstack vbs backup delete --dry-run -f json -' % volume)
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)
    assert {r['ID'] for r in reported} == set(backups)
    assert {r['Result'] for r in reported} == {'would-delete'}
    assert all(r['Name'] for r in reported)
    for backup in backups:
        assert server.backup(backup)['status'] == 'available'


def test_json_results_agree_with_the_server(openstack, server, rows):
    first, second = rows(2)
    [busy] = rows(1, status='deleting')
    result = openstack('vbs', 'backup', 'delete', '--wait', '--timeout',
                       '10', '-f', 'json', first, MISSING, busy, second)
    assert result.returncode == 1
    reported = {r['ID']: r for r in json.loads(result.stdout)}
    assert list(reported) == [first, MISSING, busy, second]
    for backup, row in reported.items():
        on_server = server.backup(backup)
        if row['Result'] == 'gone':
            assert on_server is None
        else:
            assert row['Result'] == 'failed'
            assert row['Reason'] and row['Request ID'].startswith('req-')
    assert reported[first]['Result'] == reported[second]['Result'] == 'gone'
    # Being deleted already is waited for like the others; this one never
    # goes (its row was written so), so it fails at the timeout.
    assert 'still deleting after 10 seconds' in reported[busy]['Reason']
    assert server.backup(busy)['status'] == 'deleting'
    assert result.stderr.strip() == '2 of 4 backups failed to delete.'


def test_a_rerun_over_backups_being_deleted_converges(openstack, server,
                                                      rows):
    # What a --wait that timed out leaves behind, on the real Cinder: its
    # DELETE is refused (400, status must be available or error).
    busy = rows(2, status='deleting')
    fresh = rows(1)
    result = openstack('vbs', 'backup', 'delete', '-f', 'json',
                       *busy, *fresh)
    assert result.returncode == 0, result.stderr
    reported = {r['ID']: r for r in json.loads(result.stdout)}
    assert [reported[b]['Result'] for b in busy + fresh] == ['deleted'] * 3
    assert all('already being deleted' in reported[b]['Reason']
               for b in busy)
    assert all(server.backup(b)['status'] == 'deleting' for b in busy)


def test_list_pages_through_more_than_one_page(openstack, rows):
    # The local cloud serves at most 100 backups a page.
    volume = new_id()
    backups = rows(250, volume_id=volume)
    result = openstack('vbs', 'backup', 'list', '--volume', volume,
                       '-f', 'json')
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert sorted(r['ID'] for r in listed) == sorted(backups)
    limited = openstack('vbs', 'backup', 'list', '--volume', volume,
                        '--max-items', '120', '-f', 'value', '-c', 'ID')
    assert len(limited.stdout.split()) == 120


def test_list_filters_and_show(openstack, server, rows):
    [backup] = rows(1, status='error')
    name = server.backup(backup)['name']
    listed = openstack('vbs', 'backup', 'list', '--name', name, '--long',
                       '-f', 'json')
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row['ID'], row['Status']) == (backup, 'error')
    for argument in (backup, name):
        shown = openstack('vbs', 'backup', 'show', argument, '-f', 'json')
        assert shown.returncode == 0, shown.stderr
        record = json.loads(shown.stdout)
        assert (record['id'], record['name'], record['status']) == (
            backup, name, 'error')


def test_show_a_missing_backup_is_one_line(openstack):
    result = openstack('vbs', 'backup', 'show', MISSING)
    assert result.returncode == 1
    assert result.stderr.strip().count('\n') == 0
    assert 'could not be found' in result.stderr
