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

"""Retention: which backups of each volume a prune keeps, and why.

The rules are restic's (`forget --keep-*`, as restic 0.17 applies them):
`last N` keeps the N newest backups; `daily N` keeps the newest backup of
each of the N most recent days that have a backup, and likewise hourly,
weekly (ISO weeks), monthly and yearly; a count rule that still has room
once it reaches the oldest backup keeps that one too ('oldest daily');
a count may be UNLIMITED. `within D` keeps every backup newer than the
volume's newest one that is not in the future, minus D (a clock gone
wrong must not make the real history look old). A backup kept by any
rule is kept, and its reasons name every rule that keeps it ('daily #2,
weekly #1'). Times are `created_at`, in UTC.

Each volume is planned on its own, and only `available` backups are
restore points: they alone are counted by the rules and may be deleted.
Any other backup is skipped (left alone, its status as the reason), and
so is one whose record cannot be placed: no volume, or a `created_at`
that is missing, unreadable or out of range. A volume keeps its newest
available backup whatever the rules say.

Chains, as the server enforces them: a backup that reports
`has_dependent_backups` is kept while one of its dependents (in the model
of vbsclient.api.chains) stays, that is is kept, or skipped in a status
other than deleting. Cinder reports dependents and refuses to delete a
backup that has them; VBS reports none and deletes any backup, so there
nothing is kept for a chain.

plan() takes records, sends nothing, and needs one sort per volume for the
rules and one for the chains: O(n log n).
"""

import collections
import dataclasses
import datetime

from vbsclient.api import chains
from vbsclient.api import listing
from vbsclient.api import retention_rules

KEEP = 'keep'
DELETE = 'delete'
SKIP = 'skip'
# Why a backup is skipped, in the order a summary counts them.
NOT_AVAILABLE = 'not available'
NO_TIME = 'no usable time'
NO_VOLUME = 'no volume'
SKIPPED = (NOT_AVAILABLE, NO_TIME, NO_VOLUME)

_UTC = datetime.timezone.utc
_EARLIEST = datetime.datetime.min.replace(tzinfo=_UTC)


@dataclasses.dataclass(frozen=True)
class Decision:
    """What a prune does with one backup (`record`, as listed): `action`
    KEEP, DELETE or SKIP; `reasons`, the rules that keep it, or the
    status (or missing time) that makes it skipped; none for a deletion.
    skipped: for SKIP, why in a word (NOT_AVAILABLE, NO_TIME, NO_VOLUME).
    """
    record: dict
    action: str
    reasons: tuple = ()
    skipped: str = None

    @property
    def reason(self):
        return ', '.join(self.reasons)


def plan(backups, rules, now=None):
    """The decisions for `backups` (records, as a detailed list shows
    them, in any order and of any volumes) under `rules`.

    now: an aware datetime (default: the current time); a backup made
    after it is in the future, and not the reference of `within`.

    One Decision per record, by volume (in the order of volume IDs), newest
    first within a volume; a tie on time goes by ID (the greater is taken
    as the newer, as in vbsclient.api.chains).
    """
    volumes = collections.defaultdict(list)
    homeless = []  # records that name no volume: planned with none
    for record in backups:
        volume_id = record.get('volume_id')
        if volume_id is None or not str(volume_id).strip():
            homeless.append(Decision(record, SKIP, ('no volume ID',),
                                     NO_VOLUME))
        else:
            # One volume, whatever the case of its UUID.
            volumes[listing.id_key(str(volume_id))].append(record)
    now = now or datetime.datetime.now(_UTC)
    decisions = []
    for volume_id in sorted(volumes):
        decisions.extend(_plan_volume(volumes[volume_id], rules, now))
    return decisions + homeless


def _plan_volume(records, rules, now):
    """The decisions of one volume's records, newest first."""
    entries = []     # (created_at, ID, index), newest first
    skipped = {}     # index -> (reasons, why in a word)
    for index, record in enumerate(records):
        made, unusable = _made(record.get('created_at'))
        status = record.get('status')
        if status != 'available':
            skipped[index] = ((str(status or 'no status'),), NOT_AVAILABLE)
        elif made is None:
            skipped[index] = (('created_at %s' % unusable,), NO_TIME)
        entries.append((made or _EARLIEST, str(record.get('id')), index))
    entries.sort(reverse=True)
    candidates = [(made, index) for made, _, index in entries
                  if index not in skipped]
    reasons = _rule_reasons(candidates, rules, now)
    _needed(records, skipped, reasons)
    decisions = []
    for _, _, index in entries:
        if index in skipped:
            decisions.append(Decision(records[index], SKIP,
                                      *skipped[index]))
        elif reasons[index]:
            decisions.append(Decision(records[index], KEEP,
                                      tuple(reasons[index])))
        else:
            decisions.append(Decision(records[index], DELETE))
    return decisions


def _made(created_at):
    """(the time, None), or (None, why it cannot be used)."""
    if not created_at:
        return None, 'missing'
    try:
        return retention_rules.parse_time(created_at), None
    except ValueError as exc:
        return None, ('out of range' if isinstance(
            exc, retention_rules.OutOfRange)
                      else 'unreadable')


def _rule_reasons(candidates, rules, now):
    """Index -> the reasons the rules keep it (a list, maybe empty), for
    the candidates: (created_at, index), newest first.
    """
    reasons = {index: [] for _, index in candidates}
    if not candidates:
        return reasons
    for name, bucket in _BUCKETS:
        wanted = getattr(rules, name) or 0
        kept, previous = 0, None
        for position, (made, index) in enumerate(candidates):
            if kept == wanted:
                break
            key = position if bucket is None else bucket(made)
            if key != previous:
                kept += 1
                previous = key
                reasons[index].append('%s #%d' % (name, kept))
            elif position == len(candidates) - 1:
                # restic keeps the oldest too while a rule has room: the
                # longest history the counts allow.
                reasons[index].append('oldest %s' % name)
    if rules.within:  # a zero duration keeps nothing, as in restic
        _within(candidates, rules.within, now, reasons)
    newest = candidates[0][1]
    if not reasons[newest]:
        reasons[newest].append('newest')
    return reasons


def _within(candidates, within, now, reasons):
    """Keep what is newer than the reference minus `within`: the newest
    candidate not after `now` (if every one is, all are within, as in
    restic).
    """
    reference = next((made for made, _ in candidates if made <= now), None)
    cutoff = within.before(reference) if reference else _EARLIEST
    for made, index in candidates:
        if reference is not None and made <= cutoff:
            break
        reasons[index].append('within %s' % within)


# Each count rule, and what makes two backups one of its periods (None:
# every backup is one).
_BUCKETS = (
    ('last', None),
    ('hourly', lambda t: (t.year, t.month, t.day, t.hour)),
    ('daily', lambda t: (t.year, t.month, t.day)),
    ('weekly', lambda t: t.isocalendar()[:2]),
    ('monthly', lambda t: (t.year, t.month)),
    ('yearly', lambda t: t.year),
)


def _needed(records, skipped, reasons):
    """Add 'needed by <id>' to the candidates that report dependents while
    one of their dependents (vbsclient.api.chains.links: Cinder's rule)
    stays: kept, or skipped in a status other than deleting; the nearest
    one is named. One that reports dependents the list does not show
    stays too.
    """
    if not any(chains.reports_dependents(r) for r in records):
        return  # no chain here (VBS reports none): nothing is needed
    chain = chains.links(records)
    index = {id(record): n for n, record in enumerate(records)}
    staying = {n for n in range(len(records)) if (
        records[n].get('status') != 'deleting' if n in skipped
        else reasons[n])}
    parents = [r for r in sorted(records, key=chains.made_order,
                                 reverse=True)
               if index[id(r)] not in skipped and chains.reports_dependents(r)]

    def stays(record):
        return [d for d in chain.dependents.get(record['id'], ())
                if index[id(d)] in staying]
    changed = True
    while changed:  # backups of one second may link both ways
        changed = False
        for record in parents:
            n = index[id(record)]
            if n not in staying and (record['id'] in chain.unknown
                                     or stays(record)):
                staying.add(n)
                changed = True
    for record in parents:
        needing = stays(record)
        if record['id'] in chain.unknown:
            reasons[index[id(record)]].append(
                'needed by incremental backups the list does not show')
        elif needing:
            reasons[index[id(record)]].append('needed by %s'
                                              % needing[0]['id'])
