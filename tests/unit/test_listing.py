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

"""vbsclient.api.listing: each backup once, only what the filters asked."""

import logging
import uuid

import hypothesis
from hypothesis import strategies as st

from vbsclient.api import listing

VOLUME = '0b5f1e0c-3d1b-4c2a-9a55-5b2f3c4d5e6f'


def record(backup_id, **fields):
    return dict({'id': backup_id, 'name': 'n', 'status': 'available',
                 'volume_id': VOLUME}, **fields)


def ids(records, filters=None, detailed=True):
    return [r['id'] for r in listing.trusted(records, filters or {},
                                             detailed)]


def test_the_first_record_of_a_backup_counts_and_repeats_are_said_once(
        caplog):
    upper = str(uuid.uuid4()).upper()
    records = [record('a'), record('b'), record('a', name='other'),
               record(upper), record(upper.lower()), record('b')]
    with caplog.at_level(logging.WARNING):
        assert ids(records) == ['a', 'b', upper]
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and 'more than once' in said[0]


def test_ids_that_only_look_alike_are_different_backups():
    # Not UUIDs: only the very same text is the same backup.
    assert ids([record('bk-A'), record('bk-a'), record('BK-A')]) == \
        ['bk-A', 'bk-a', 'BK-A']


def test_filters_are_checked_on_each_record(caplog):
    records = [record('exact', name='nightly'),
               record('longer', name='nightly-old'),
               record('error', name='nightly', status='error'),
               record('other', name='nightly', volume_id=str(uuid.uuid4())),
               record('no-volume', name='nightly', volume_id=None),
               record('upper', name='nightly', volume_id=VOLUME.upper())]
    with caplog.at_level(logging.WARNING):
        assert ids(records, {'name': 'nightly', 'status': 'available',
                             'volume_id': VOLUME}) == ['exact', 'upper']
    assert len(caplog.records) == 1
    assert 'left out' in caplog.records[0].getMessage()


def test_a_summary_list_checks_only_the_name_it_shows():
    summary = [{'id': 'a', 'name': 'x'}, {'id': 'b', 'name': 'xy'}]
    assert ids(summary, {'name': 'x', 'status': 'error'},
               detailed=False) == ['a']


def test_other_query_parameters_are_not_filters():
    assert ids([record('a')], {'limit': 1, 'marker': 'z',
                               'all_tenants': 1}) == ['a']


@hypothesis.settings(max_examples=300, database=None)
@hypothesis.given(st.lists(st.tuples(
    st.sampled_from(['a', 'b', 'c', 'A', str(uuid.UUID(int=7)),
                     str(uuid.UUID(int=7)).upper()]),
    st.sampled_from(['n', 'n2', None]),
    st.sampled_from(['available', 'error'])), max_size=12),
    st.fixed_dictionaries({}, optional={
        'name': st.sampled_from(['n', 'n2']),
        'status': st.sampled_from(['available', 'error'])}))
def test_each_backup_at_most_once_and_every_one_matches(rows, filters):
    records = [record(i, name=n, status=s) for i, n, s in rows]
    kept = list(listing.trusted(records, filters))
    keys = [listing.id_key(r['id']) for r in kept]
    assert len(keys) == len(set(keys))
    for r in kept:
        assert all(r[k] == v for k, v in filters.items())
    # Each one kept is the first record of its backup.
    first = {}
    for r in records:
        first.setdefault(listing.id_key(r['id']), r)
    assert all(first[listing.id_key(r['id'])] is r for r in kept)
    # And nothing that matches is lost.
    assert len(kept) == sum(all(r[k] == v for k, v in filters.items())
                            for r in first.values())
