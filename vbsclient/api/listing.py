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

"""What a backup list is trusted with: each backup once, and only the
backups its filters asked for.

A server's list can be wrong: pages that overlap, every record twice, a
filter it ignores or matches loosely (`nightly` finding `nightly-old`),
next links that drop the filters. Whatever it sends, a list yields each
backup once (its first record) and only records whose own fields match
the filters; each kind of record left out is said once, as a warning.
Everything that lists backups (`list`, lookups by name, prune's
selection, a chain's volume) goes through trusted().
"""

import dataclasses
import logging
import re

from vbsclient.api import text as safe_text

LOG = logging.getLogger(__name__)
# A UUID as the API writes it (ids.is_uuid's form, matched faster: a
# list may hold tens of thousands).
_UUID = re.compile('[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   '[0-9a-f]{12}')

# Filters that a record shows in a field of the same name: a detailed
# record has all of them, a summary one (ID, name, links) only the name.
DETAILED_FIELDS = ('name', 'status', 'volume_id')
SUMMARY_FIELDS = ('name',)


@dataclasses.dataclass
class Report:
    """What a list met on its way: pages read (paging.pages), and the
    kinds of records left out ('repeated', 'filtered').
    """

    pages: int = 0
    left_out: set = dataclasses.field(default_factory=set)

    @property
    def filters_applied(self):
        """The server applied the filters as asked: nothing was left out
        because its record did not match them.
        """
        return 'filtered' not in self.left_out


def trusted(records, filters, detailed=True, report=None):
    """Yield `records` (dicts with a string "id", as listed) each once and
    only those that match `filters` (the query sent: name, status and
    volume_id are checked; a record without the field does not match).
    Streamed: only the IDs seen are kept. report.left_out gets the kinds
    left out (Report).
    """
    said = report.left_out if report is not None else set()
    wanted = {key: str(filters[key]) for key in
              (DETAILED_FIELDS if detailed else SUMMARY_FIELDS)
              if filters.get(key) is not None}
    seen = set()
    for record in records:
        key = id_key(record['id'])
        if key in seen:
            _say_once(said, 'repeated', 'The server listed backup %s more '
                      'than once; each backup is listed once.'
                      % safe_text.quoted(record['id']))
            continue
        seen.add(key)
        mismatch = [field for field, value in wanted.items()
                    if not _matches(field, record.get(field), value)]
        if mismatch:
            _say_once(said, 'filtered', 'The server listed backups that do '
                      'not match the %s asked for (%s, for one); they are '
                      'left out.' % (' and '.join(mismatch),
                                     safe_text.quoted(record['id'])))
            continue
        yield record


def id_key(value):
    """A key equal for IDs that name the same backup (or volume): a UUID
    in any case is one UUID; any other ID only as written.
    """
    lowered = value.lower()
    return lowered if _UUID.fullmatch(lowered) else value


def _matches(field, shown, wanted):
    if shown is None:
        return False
    if field == 'volume_id':
        return id_key(str(shown)) == id_key(wanted)
    return str(shown) == wanted


def _say_once(said, kind, line):
    if kind not in said:
        said.add(kind)
        LOG.warning('%s', line)
