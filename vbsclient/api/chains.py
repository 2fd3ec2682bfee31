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
parent, so the parents are worked out as Cinder chooses them
(cinder/backup/api.py, `create`): an incremental backup's parent is the
volume's backup with the latest `data_timestamp` (else `created_at`)
among those that were `available` when it was made, ties going to the
later `created_at`, then the greater ID (Cinder's list order). A backup
that reports no dependents is nobody's parent (a full backup that
failed never is); one in `error` or `creating` is not either, unless it
reports dependents. Where the records cannot tell which of several
backups made in the same second came first, each of them counts as a
possible parent: a chain is kept whole rather than cut. A backup that
reports dependents the list shows none of has unknown dependents.

links() works that out for one volume; plan() turns it into an order,
without a request: records in, steps out, in waves. A parent goes after
every other parent among its dependents (a later wave), and waits for
its dependents; parents that may each depend on the other (made in the
same second, their order unknown) share a wave.
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
# Statuses of a backup that was never available (unless it reports
# dependents, which only an available backup gets).
_NEVER_AVAILABLE = ('error', 'creating')


@dataclasses.dataclass(frozen=True)
class Step:
    """Delete `parent` in wave `wave`, once `waits` are gone.

    waits: IDs, oldest first: its dependents, each named in this run or
    being deleted by others. dependents: how many backups depend on it;
    elsewhere: how many of those are being deleted by others, not by this
    run.
    """
    parent: str
    wave: int
    waits: tuple
    dependents: int
    elsewhere: int


@dataclasses.dataclass(frozen=True)
class Refusal:
    """A parent that cannot be deleted: `count` backups that depend on it
    (or on a dependent parent that cannot go) are neither named in this
    run nor being deleted; `in_the_way` holds the oldest of them (at most
    SHOWN), oldest first.
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


@dataclasses.dataclass(frozen=True)
class Links:
    """One volume's chains: dependents[ID] lists the backups (records,
    oldest first) that may depend on it; unknown holds the IDs of
    backups that report dependents none of the records can be.
    """
    dependents: dict
    unknown: frozenset


def links(records):
    """The chains of one volume's records (any order), by Cinder's rule.

    One sort, and a sorted index of the possible parents: O(n log n) for
    a history without same-second ties.
    """
    ordered = sorted(records, key=made_order)
    parents = {}        # incremental ID -> [possible parent records]
    made = []           # the possible parents so far, by made_order
    by_second = itertools.groupby(ordered, key=_created)
    for _, group in by_second:
        group = list(group)
        for record in group:
            if record.get('is_incremental'):
                parents[record['id']] = _possible_parents(record, made,
                                                          group)
        for record in group:
            if _may_be_parent(record):
                made.append(record)  # in made_order: ordered is
    dependents = collections.defaultdict(list)
    for record in ordered:
        for parent in parents.get(record['id'], ()):
            dependents[parent['id']].append(record)
    unknown = set()
    for record in ordered:
        if reports_dependents(record) and not dependents[record['id']]:
            # Its dependents are not where Cinder's rule puts them (made
            # while a later backup was still being made): any backup
            # made after it may be one.
            later = [r for r in ordered if r.get('is_incremental')
                     and r is not record and _may_follow(record, r)]
            dependents[record['id']] = later
            if not later:
                unknown.add(record['id'])
    return Links(dict(dependents), frozenset(unknown))


def _possible_parents(record, made, group):
    """The records that may be `record`'s parent: the latest of those made
    in an earlier second, and those of its own second that might have
    come before it and would then be later still.
    """
    latest = None
    for candidate in reversed(made):
        if _may_follow(candidate, record):
            latest = candidate
            break
    found = [latest] if latest is not None else []
    floor = made_order(latest) if latest is not None else None
    for other in group:
        if other is not record and _may_be_parent(other) \
                and _may_follow(other, record) \
                and (floor is None or made_order(other) > floor):
            found.append(other)
    return found


def _may_be_parent(record):
    """Whether incremental backups may depend on this record."""
    reported = record.get('has_dependent_backups')
    if reported is not None and str(reported).lower() in ('true', 'false'):
        return str(reported).lower() == 'true'
    return record.get('status') not in _NEVER_AVAILABLE


def _may_follow(parent, record):
    """Whether `record` may have been made after `parent`, its data taken
    no earlier.
    """
    return (_created(parent) <= _created(record)
            and made_order(parent)[0] <= made_order(record)[0])


def _created(record):
    return str(record.get('created_at') or '')


def reports_dependents(record):
    """Whether the record says incremental backups depend on it."""
    value = record.get('has_dependent_backups')
    return value is True or str(value).lower() == 'true'


def plan(parents, backups, named_ids):
    """Plan the deletion of `parents` (records).

    backups: records of the parents' volumes, as a detailed list shows
    them (the parents among them or not; other volumes' are ignored).
    named_ids: the IDs this run deletes (the parents are, in any case).
    A dependent is waited for if it is named or in status deleting; any
    other dependent keeps its parent from going: a refusal, as does a
    dependent parent that is refused.
    """
    parent_ids = {p['id'] for p in parents}
    named = parent_ids.union(named_ids)
    volumes = collections.defaultdict(dict)
    for record in itertools.chain(backups, parents):
        volumes[record.get('volume_id')].setdefault(record['id'], record)
    steps, refusals = [], {}
    for records in volumes.values():
        if not parent_ids.isdisjoint(records):
            _plan_volume(records, parent_ids, named, steps, refusals)
    return Plan(tuple(sorted(steps, key=lambda s: s.wave)), refusals)


def _plan_volume(records, parent_ids, named, steps, refusals):
    chain = links(records.values())
    waves = {}  # parent ID -> its wave
    ordered = sorted(records.values(), key=made_order, reverse=True)
    for _, group in itertools.groupby(ordered, key=_created):
        group = [r for r in group if r['id'] in parent_ids]
        for together in _mutual(group, chain.dependents):
            wave = max((waves[d['id']] + 1 for r in together
                        for d in chain.dependents.get(r['id'], ())
                        if d['id'] in waves), default=0)
            waves.update((r['id'], wave) for r in together)
            for record in together:
                _step(record, wave, chain, named, parent_ids, steps,
                      refusals)


def _mutual(group, dependents):
    """The parents of one second in sets that may each depend on the
    other (strongly connected: Tarjan's algorithm, without recursion),
    dependents' sets first. A full backup made in the same second as its
    incremental is not in the incremental's set: it goes after it, as a
    server that knows their order would require.
    """
    members = {r['id']: r for r in group}
    edges = {i: [d['id'] for d in dependents.get(i, ()) if d['id'] in
                 members] for i in members}
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in members:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            step = next(pending, None)
            if step is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    together = set()
                    while node not in together:
                        together.add(stack.pop())
                    on_stack -= together
                    found.append([members[i] for i in members
                                  if i in together])
            elif step not in index:
                index[step] = low[step] = len(index)
                stack.append(step)
                on_stack.add(step)
                work.append((step, iter(edges[step])))
            elif step in on_stack:
                low[node] = min(low[node], index[step])
    return found


def _step(record, wave, chain, named, parent_ids, steps, refusals):
    dependents = chain.dependents.get(record['id'], ())
    waits, in_the_way, count = [], [], 0
    for dependent in dependents:
        refused = refusals.get(dependent['id'])
        if refused is not None:
            in_the_way.extend(refused.in_the_way)
            count += refused.count
        elif dependent['id'] in named or dependent.get('status') == \
                'deleting':
            waits.append(dependent['id'])
        else:
            in_the_way.append(dependent)
            count += 1
    if count:
        in_the_way = sorted({id(r): r for r in in_the_way}.values(),
                            key=made_order)[:SHOWN]
        refusals[record['id']] = Refusal(record['id'], tuple(in_the_way),
                                         count)
    else:
        steps.append(Step(record['id'], wave, tuple(waits), len(dependents),
                          sum(w not in named for w in waits)))


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
