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

"""Incremental chains: which backups keep a backup from being deleted.

Cinder (and VBS) refuse to delete a backup while incremental backups
depend on it ("Incremental backups exist for this backup."). Their
answers show `is_incremental` and `has_dependent_backups`, not the
parent, but a volume's backups form chains in time: an incremental
backup's parent is the newest backup of the volume when it was made. So
the backups that depend on one are the incrementals that follow it, up to
the next full backup; deleting a chain from its newest end always works.
"""

import re

from vbsclient.api import errors

_DEPENDENTS_EXIST = re.compile(
    r'incremental backups exist|dependent backups', re.I)


def refused_for_dependents(error):
    """Whether the server refused a delete because backups depend on it."""
    return (isinstance(error, errors.ApiError)
            and error.status_code in (400, 409)
            and bool(_DEPENDENTS_EXIST.search(error.message or '')))


def dependents(parent, volume_backups):
    """The backups of parent's volume that depend on it, oldest first."""
    after = sorted((b for b in volume_backups
                    if b.get('id') != parent.get('id')
                    and _made(b) > _made(parent)), key=_made)
    chain = []
    for backup in after:
        if not backup.get('is_incremental'):
            break  # a full backup starts a chain of its own
        chain.append(backup)
    return chain


def _made(record):
    """When a backup's data was taken (data_timestamp, else created_at);
    ISO 8601 strings of one server sort as the times do.
    """
    return (str(record.get('data_timestamp') or record.get('created_at')
                or ''), str(record.get('created_at') or ''))


def describe(backups, limit=10):
    """'id (name), ...' for a message, at most `limit` of them."""
    shown = ['%s (%s)' % (b.get('id'), b.get('name')) if b.get('name')
             else str(b.get('id')) for b in backups[:limit]]
    if len(backups) > limit:
        shown.append('and %d more' % (len(backups) - limit))
    return ', '.join(shown)
