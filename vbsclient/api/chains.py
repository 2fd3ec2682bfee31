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

"""Incremental chains: which backups keep a backup from being deleted, and
in what order a run deletes the ones it names.

Cinder (and VBS) refuse to delete a backup while incremental backups
depend on it ("Incremental backups exist for this backup."). Their
answers show `is_incremental` and `has_dependent_backups`, not the
parent, but a volume's backups form chains in time: an incremental
backup's parent is the newest backup of the volume made before it. So
the backups that depend on one are the incrementals that follow it, up to
the next full backup; deleting a chain from its newest end always works.

plan() turns that model into an order, without a request: records in,
steps out, in waves. A parent goes after every other parent among its
dependents (a later wave), and waits only for the dependents between it
and the nearest of those (which waits for the rest, in turn).
"""

import collections
import dataclasses
import itertools
import re

from vbsclient.api import errors

_DEPENDENTS_EXIST = re.compile(
    r'incremental backups exist|dependent backups', re.I)
# The dependents a refusal keeps: as many as describe() shows.
SHOWN = 10


@dataclasses.dataclass(frozen=True)
class Step:
    """Delete `parent` in wave `wave`, once `waits` are gone.

    waits: IDs, oldest first: its dependents up to the nearest parent of
    the plan among them, and that parent (whose own step waits for the
    rest). dependents: how many backups depend on it in all; elsewhere:
    how many of those are being deleted by others, not by this run.
    """
    parent: str
    wave: int
    waits: tuple
    dependents: int
    elsewhere: int


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A parent that cannot be deleted: `count` dependents are neither
    named in this run nor being deleted; `in_the_way` holds the oldest of
    them (at most SHOWN), oldest first.
    """
    parent: str
    in_the_way: tuple
    count: int


@dataclasses.dataclass(frozen=True)
class Plan:
    steps: tuple     # by wave; within a wave, by volume, newest first
    refusals: dict   # parent ID -> Refusal

    def waves(self):
        """The steps, a list per wave, earliest first."""
        return [list(steps) for _, steps in
                itertools.groupby(self.steps, key=lambda s: s.wave)]


def plan(parents, backups, named_ids):
    """Plan the deletion of `parents` (records).

    backups: records of the parents' volumes, as a detailed list shows
    them (the parents among them or not; other volumes' are ignored).
    named_ids: the IDs this run deletes (the parents are, in any case).
    A dependent is waited for if it is named or in status deleting; any
    other dependent keeps its parent from going: a refusal.

    One sort and one walk per volume, newest to oldest: O(n log n).
    """
    parent_ids = {p['id'] for p in parents}
    volumes = collections.defaultdict(dict)
    for record in itertools.chain(backups, parents):
        volumes[record.get('volume_id')].setdefault(record['id'], record)
    steps, refusals = [], {}
    for records in volumes.values():
        if not parent_ids.isdisjoint(records):
            _walk(sorted(records.values(), key=made_order), parent_ids,
                  parent_ids.union(named_ids), steps, refusals)
    return Plan(tuple(sorted(steps, key=lambda s: s.wave)), refusals)


class _After:
    """What follows a point of a volume's history, up to the next full
    backup: the backups that depend on a backup made at that point.
    """

    def __init__(self):
        self.wave = 0         # the wave of a parent here
        self.waits = []       # newest first
        self.dependents = self.elsewhere = 0
        self.in_the_way = []  # oldest first, at most SHOWN
        self.blocking = 0


def _walk(ordered, parent_ids, named, steps, refusals):
    after = _After()
    for record in reversed(ordered):
        backup_id = record['id']
        if backup_id in parent_ids:
            if after.blocking:
                refusals[backup_id] = Refusal(
                    backup_id, tuple(after.in_the_way), after.blocking)
            else:
                steps.append(Step(backup_id, after.wave,
                                  tuple(reversed(after.waits)),
                                  after.dependents, after.elsewhere))
        if not record.get('is_incremental'):
            after = _After()  # nothing made before it depends on it
            continue
        after.dependents += 1
        if backup_id in parent_ids:
            after.wave += 1
            after.waits = [backup_id]  # its step waits for the others
        elif backup_id in named or record.get('status') == 'deleting':
            after.waits.append(backup_id)
            after.elsewhere += backup_id not in named
        else:
            after.in_the_way = [record] + after.in_the_way[:SHOWN - 1]
            after.blocking += 1


# The statuses in which the reference server accepts a delete that is
# not forced.
DELETABLE = ('available', 'error')


def on_its_way(record, force=False):
    """Whether a named backup can go: a delete of it is (or was) accepted.

    The reference server accepts a delete only in DELETABLE statuses
    (--force: in any); deleting is on its way already.
    """
    return force or record.get('status') in (None, 'deleting') + DELETABLE


def refused_for_dependents(error):
    """Whether the server refused a delete because backups depend on it."""
    return (isinstance(error, errors.ApiError)
            and error.status_code in (400, 409)
            and bool(_DEPENDENTS_EXIST.search(error.message or '')))


def dependents(parent, volume_backups):
    """The backups of parent's volume that depend on it, oldest first.

    The model itself, one parent at a time (plan() is the same in one
    walk per volume).
    """
    after = sorted((b for b in volume_backups
                    if b.get('id') != parent.get('id')
                    and made_order(b) > made_order(parent)), key=made_order)
    chain = []
    for backup in after:
        if not backup.get('is_incremental'):
            break  # a full backup starts a chain of its own
        chain.append(backup)
    return chain


def made_order(record):
    """When a backup's data was taken (data_timestamp, else created_at);
    ISO 8601 strings of one server sort as the times do. The ID settles
    a tie, so that the order is total.
    """
    return (str(record.get('data_timestamp') or record.get('created_at')
                or ''), str(record.get('created_at') or ''),
            str(record.get('id')))


def describe(backups, limit=SHOWN, total=None, status=False):
    """'id (name), ...' for a message, at most `limit` of them.

    total: how many there are, if `backups` holds only the first ones;
    status: name the status of those in one a delete does not take
    ('id (name, creating)').
    """
    shown = []
    for backup in backups[:limit]:
        about = [str(backup[k]) for k in ('name', 'status') if backup.get(k)
                 and (k == 'name' or status and not on_its_way(backup))]
        shown.append('%s (%s)' % (backup.get('id'), ', '.join(about))
                     if about else str(backup.get('id')))
    total = len(backups) if total is None else total
    if total > len(shown):
        shown.append('and %d more' % (total - len(shown)))
    return ', '.join(shown)
