"""The requests the client sends, and ID safety."""

import pytest

from vbsclient.api import client as api_client
from vbsclient.api import errors
from tests.unit.conftest import (BACKUPS_URL, PROJECT_ID, VBS_ROOT,
                                 backup_url, make_session, vbs_calls)

BACKUP = '592a0c4d-65a3-4051-8d51-1e2b6401b2d8'
A = '11111111-1111-4111-8111-111111111111'


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


# -- answers that are not the API's ----------------------------------------------

GATEWAY_404 = {'error_code': 'APIGW.0101', 'error_msg': 'No such API.'}


def test_a_foreign_404_means_gone_when_the_endpoint_serves_backups(
        client, cloud):
    cloud.get(backup_url(A), status_code=404, json=GATEWAY_404)
    cloud.get(BACKUPS_URL + '?limit=1', json={'backups': []})
    for _ in range(3):
        with pytest.raises(errors.NotFound):
            client.get(A)
    probes = [r for r in vbs_calls(cloud) if r.query == 'limit=1']
    assert len(probes) == 1  # asked once, remembered


def test_a_foreign_404_from_a_wrong_endpoint_is_not_gone(client, cloud):
    cloud.get(backup_url(A), status_code=404, json=GATEWAY_404)
    cloud.get(BACKUPS_URL + '?limit=1', status_code=404, json=GATEWAY_404)
    with pytest.raises(errors.ApiError) as info:
        client.get(A)
    assert not isinstance(info.value, errors.NotFound)
    assert 'does not look like the backup API' in str(info.value)


@pytest.mark.parametrize('answer, expected', [
    ({'status_code': 200}, 'HTTP 200, not the backup API\'s 202'),
    ({'status_code': 204}, 'HTTP 204'),
    ({'status_code': 307, 'headers': {'Location': 'https://evil.test/x'}},
     "redirect to host 'evil.test'"),
    ({'status_code': 304}, 'redirect without a location'),
])
def test_a_delete_counts_only_with_the_apis_202(client, cloud, answer,
                                                expected):
    cloud.delete(backup_url(A), **answer)
    with pytest.raises(errors.UnexpectedAnswer) as info:
        client.delete(A)
    assert expected in str(info.value)
    assert '--' not in str(info.value)  # no CLI option in the API layer


def test_only_a_bounded_prefix_of_an_error_body_is_parsed():
    late = b' ' * errors.MAX_ERROR_BODY + b'<title>late</title>'
    message, _ = errors.parse_body(late)
    assert not message or 'late' not in message
    message, _ = errors.parse_body(b'[' * 100000)
    assert message  # a readable line, not a RecursionError


def test_html_parsing_is_linear_on_hostile_pages():
    # Each of these made the old regular expressions quadratic.
    for page in (b'<title' * 10000, b'>' + b'<a' * 20000):
        message, _ = errors.parse_body(page)
        assert message is not None


def test_an_endpoint_override_is_checked_before_any_request(cloud):
    client = api_client.BackupClient(
        make_session(), endpoint_override='https://u:pw@vbs.test/v3')
    with pytest.raises(errors.ConfigurationError) as info:
        client.check_endpoint()
    assert 'pw' not in str(info.value)
    assert not cloud.request_history
