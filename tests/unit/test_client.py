"""The requests the client sends, and ID safety."""

import pytest

from vbsclient.api import client as api_client
from vbsclient.api import errors
from tests.unit.conftest import (BACKUPS_URL, PROJECT_ID, VBS_ROOT,
                                 backup_url, make_session, vbs_calls)

BACKUP = '592a0c4d-65a3-4051-8d51-1e2b6401b2d8'


def test_delete_is_one_delete_request_to_the_v3_path(client, cloud):
    cloud.delete(backup_url(BACKUP), status_code=202,
                 headers={'x-openstack-request-id': 'req-1'})
    assert client.delete(BACKUP) == 'req-1'
    calls = vbs_calls(cloud)
    assert [(c.method, c.url) for c in calls] == [
        ('DELETE', '%s/v3/%s/backups/%s' % (VBS_ROOT, PROJECT_ID, BACKUP))]
    assert calls[0].headers['X-Auth-Token']


def test_version_2_uses_the_v2_path(cloud):
    client = api_client.BackupClient(make_session(), api_version='2')
    url = '%s/v2/%s/backups/%s' % (VBS_ROOT, PROJECT_ID, BACKUP)
    cloud.delete(url, status_code=202)
    client.delete(BACKUP)
    assert cloud.last_request.url == url


def test_force_delete_posts_the_action(client, cloud):
    cloud.post(backup_url(BACKUP) + '/action', status_code=202)
    client.force_delete(BACKUP)
    assert cloud.last_request.json() == {'os-force_delete': {}}
    assert len(vbs_calls(cloud)) == 1


def test_get_returns_the_record(client, cloud):
    cloud.get(backup_url(BACKUP),
              json={'backup': {'id': BACKUP, 'status': 'available'}})
    assert client.get(BACKUP)['status'] == 'available'


def test_list_follows_next_links_on_our_own_endpoint(client, cloud):
    # The server's link names another host: only its query is used.
    cloud.get(BACKUPS_URL + '?name=daily', complete_qs=True, json={
        'backups': [{'id': 'a', 'name': 'daily'}],
        'backups_links': [{'rel': 'next', 'href':
                           'http://internal-host:8776/v3/x/backups?name=daily'
                           '&marker=a'}]})
    cloud.get(BACKUPS_URL + '?name=daily&marker=a', complete_qs=True, json={
        'backups': [{'id': 'b', 'name': 'daily'}]})
    assert [b['id'] for b in client.list(name='daily')] == ['a', 'b']
    assert all(c.url.startswith(VBS_ROOT) for c in vbs_calls(cloud))
    assert not [r for r in cloud.request_history if 'internal-host' in r.url]


def test_list_detail_and_filters(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', json={'backups': []})
    assert list(client.list(detailed=True, status='error', volume_id='v',
                            name=None)) == []
    assert cloud.last_request.qs == {'status': ['error'], 'volume_id': ['v']}


@pytest.mark.parametrize('bad_id', [
    '', '   ', '.', '..', '../volumes/' + BACKUP, BACKUP + '/action',
    'a\\b', 'a?b=c', 'a#b', '%2e%2e', 'a;b', 'a\nb', 'a\x00b', ' ' + BACKUP,
    'a\u202eb', None,
])
def test_unsafe_ids_are_refused_before_any_request(client, cloud, bad_id):
    for operation in (client.delete, client.force_delete, client.get):
        with pytest.raises(errors.InvalidBackupId):
            operation(bad_id)
    assert not vbs_calls(cloud)
    assert not cloud.request_history  # not even a token was fetched


def test_an_odd_but_harmless_id_is_one_quoted_segment(client, cloud):
    cloud.delete(BACKUPS_URL + '/my%20backup', status_code=202)
    client.delete('my backup')
    assert cloud.last_request.path.endswith('/backups/my%20backup')


def test_list_stops_when_the_next_link_points_back(client, cloud):
    cloud.get(BACKUPS_URL, json={
        'backups': [{'id': 'a', 'name': 'x'}],
        'backups_links': [{'rel': 'next', 'href': BACKUPS_URL + '?marker=a'}]})
    with pytest.raises(errors.VbsError) as info:
        list(client.list())
    assert 'same backup list page twice' in str(info.value)
    assert len(vbs_calls(cloud)) == 2
