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

"""Backup IDs: an ID told from a name, and an ID made one safe path
segment, or refused before any request.
"""

import pytest

from tests.unit.conftest import BACKUP
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import vbs_calls
from vbsclient.api import errors
from vbsclient.api import ids


@pytest.mark.parametrize('value, expected', [
    (BACKUP, True),
    (BACKUP.upper(), True),  # the case of a UUID does not matter
    (BACKUP.replace('-', ''), False),  # only the canonical form
    ('{%s}' % BACKUP, False),
    ('urn:uuid:' + BACKUP, False),
    (BACKUP + ' ', False),
    (BACKUP[:-1], False),
    ('nightly', False),
    ('', False),
    (None, False),
    (42, False),
])
def test_only_a_canonical_uuid_is_an_id(value, expected):
    assert ids.is_uuid(value) is expected


@pytest.mark.parametrize('value', [
    'nightly', 'my backup', 'Zürich ☃', ' padded ', 'a/b', '..'])
def test_any_printable_text_may_name_a_backup(value):
    ids.check_name_or_id(value)  # no exception


@pytest.mark.parametrize('value, says', [
    ('', 'empty or blank'),
    ('  \t', 'empty or blank'),
    (None, 'empty or blank'),
    (b'nightly', 'empty or blank'),
    ('a\nb', 'control characters'),
    ('a\u202eb', 'control characters'),  # a bidi override
    ('caf\udce9', 'not valid UTF-8'),    # a byte read with surrogateescape
])
def test_what_names_no_backup_is_refused_saying_why(value, says):
    with pytest.raises(errors.InvalidBackupId) as info:
        ids.check_name_or_id(value)
    assert says in str(info.value)
    assert '\n' not in str(info.value)  # the value is shown escaped


@pytest.mark.parametrize('value, segment', [
    (BACKUP, BACKUP),
    ('my backup', 'my%20backup'),
    ('Zürich', 'Z%C3%BCrich'),
    ('a+b&c=d', 'a%2Bb%26c%3Dd'),
    ('...', '...'),
])
def test_an_id_is_exactly_one_quoted_path_segment(value, segment):
    assert ids.path_segment(value) == segment


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
