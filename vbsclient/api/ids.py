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

"""Backup IDs: telling an ID from a name, and making an ID safe for a URL."""

import re
import unicodedata
import urllib.parse
import uuid

from vbsclient.api.errors import InvalidBackupId
from vbsclient.api.text import quoted


def is_uuid(value):
    """True for a canonical UUID, the form every VBS and Cinder ID takes."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError, TypeError):
        return False


def check_name_or_id(value):
    """Refuse what names no backup at all: blank, control characters, or
    bytes that were not UTF-8 (read with surrogateescape).
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidBackupId(
            'A backup name or ID must not be empty or blank.')
    categories = {unicodedata.category(char) for char in value}
    if 'Cs' in categories:
        raise InvalidBackupId(
            'Backup name or ID %s is not valid UTF-8.' % quoted(value))
    if categories & {'Cc', 'Cf'}:
        raise InvalidBackupId(
            'Backup name or ID %s contains control characters.'
            % quoted(value))


# Characters that would end the path or change its meaning once decoded by a
# server or a proxy: separators, query and fragment marks, escapes.
_UNSAFE = re.compile(r'[/\\?#%;]')


def path_segment(backup_id):
    """Return backup_id as exactly one quoted URL path segment.

    Refuses, before any request, whatever could address anything but that
    one backup: empty or blank strings, dot segments, separators, escapes
    and control characters.
    """
    check_name_or_id(backup_id)
    if backup_id != backup_id.strip():
        raise InvalidBackupId(
            'Backup ID %s has leading or trailing white space.'
            % quoted(backup_id))
    if backup_id in ('.', '..'):
        raise InvalidBackupId('%s is not a backup ID.' % quoted(backup_id))
    if _UNSAFE.search(backup_id):
        raise InvalidBackupId(
            'Backup ID %s contains a character that is not allowed in an '
            'ID (/ \\ ? # %% ;).' % quoted(backup_id))
    return urllib.parse.quote(backup_id, safe='')
