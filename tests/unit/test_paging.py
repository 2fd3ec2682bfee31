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

"""Following a list's pages (vbsclient.api.paging)."""

import json

import pytest
import requests

from tests.fixtures import recorded
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import vbs_calls
from tests.unit.conftest import VBS_ROOT
from vbsclient.api import errors
from vbsclient.api import paging
from vbsclient.api import transport


def test_list_follows_next_links_on_our_own_endpoint(client, cloud):
    # The server's link names another host: only its query is used.
    daily = [recorded.summary(recorded.backup(i, name='daily'))
             for i in ('a', 'b')]
    cloud.get(BACKUPS_URL + '?name=daily', complete_qs=True,
              json=recorded.backup_list(
                  daily[:1], 'http://internal-host:8776/v3/x/backups'
                  '?name=daily&marker=a'))
    cloud.get(BACKUPS_URL + '?name=daily&marker=a', complete_qs=True,
              json=recorded.backup_list(daily[1:]))
    assert [b['id'] for b in client.list(name='daily')] == ['a', 'b']
    assert all(c.url.startswith(VBS_ROOT) for c in vbs_calls(cloud))
    assert not [r for r in cloud.request_history if 'internal-host' in r.url]


def test_list_reads_cinders_recorded_pages(client, cloud):
    # The pages as the real Cinder sent them, next links included.
    pages = [recorded.answer('backup-list-detail-page-%d' % n)
             for n in (1, 2, 3)]
    for page in pages:
        query = page['request']['url'].split('?')[1]
        cloud.get(BACKUPS_URL + '/detail?' + query, complete_qs=True,
                  json=page['body'])
    volume_id = pages[0]['body']['backups'][0]['volume_id']
    listed = list(client.list(detailed=True, volume_id=volume_id, limit=1))
    assert [b['is_incremental'] for b in listed] == [True, False]
    assert len(vbs_calls(cloud)) == 3


def test_list_stops_when_the_next_link_points_back(client, cloud):
    cloud.get(BACKUPS_URL, json={
        'backups': [{'id': 'a', 'name': 'x'}],
        'backups_links': [{'rel': 'next', 'href': BACKUPS_URL + '?marker=a'}]})
    with pytest.raises(errors.VbsError) as info:
        list(client.list())
    assert 'same backup list page twice' in str(info.value)
    assert len(vbs_calls(cloud)) == 2


# -- pages() on its own, with a request function that answers from a list ---

def page_server(pages):
    """request(method, path, params=) answering the JSON `pages` in
    turn; the queries asked are in .asked.
    """
    def request(method, path, params=None):
        request.asked.append(dict(params))
        body = json.dumps(pages[len(request.asked) - 1]).encode()
        return transport.Answer('GET', 200, 'OK', requests.structures.
                                CaseInsensitiveDict(), body, 'http://x')
    request.asked = []
    return request


def next_link(query):
    return [{'rel': 'next', 'href': 'http://elsewhere/v3/p/backups?' + query}]


def test_a_dropped_filter_is_sent_again_on_the_next_page():
    request = page_server([
        {'backups': [{'id': 'a'}], 'backups_links': next_link('marker=a')},
        {'backups': [{'id': 'b'}]}])
    found = list(paging.pages(request, 'backups', 'backups',
                              {'name': 'daily', 'status': None}))
    assert [r['id'] for r in found] == ['a', 'b']
    # The unset filter is left out; the one the link dropped comes back.
    assert request.asked == [{'name': 'daily'},
                             {'name': 'daily', 'marker': 'a'}]


@pytest.mark.parametrize('links', [
    None, 'not a list', [{'rel': 'self', 'href': 'http://x?marker=a'}],
    [{'rel': 'next', 'href': ''}], [{'rel': 'next'}], ['next']])
def test_a_page_without_a_usable_next_link_is_the_last(links):
    request = page_server([{'backups': [{'id': 'a'}],
                            'backups_links': links}])
    assert [r['id'] for r in paging.pages(request, 'backups', 'backups',
                                          {})] == ['a']
    assert len(request.asked) == 1


def test_an_empty_page_with_a_next_link_ends_the_list():
    request = page_server([{'backups': [], 'backups_links':
                            next_link('marker=z')}])
    with pytest.raises(errors.VbsError) as info:
        list(paging.pages(request, 'backups', 'backups', {}))
    assert 'empty backup list page' in str(info.value)


def test_a_list_that_never_ends_is_stopped(monkeypatch):
    monkeypatch.setattr(paging, 'MAX_PAGES', 3)
    request = page_server([
        {'volumes': [{'id': str(n)}], 'volumes_links':
         [{'rel': 'next', 'href': 'http://x/volumes?marker=%d' % n}]}
        for n in range(10)])
    with pytest.raises(errors.VbsError) as info:
        list(paging.pages(request, 'volumes', 'volumes', {}))
    assert 'volume list did not end after 3 pages' in str(info.value)
    assert len(request.asked) == 3
