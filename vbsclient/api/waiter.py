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

"""The one "wait until gone", for --wait, a prune's --wait and a chain's
parents.

Rounds at a steady pace (after a first round soon after the deletes, the
run's interval; throttling and Retry-After slow them, as they slow every
request). Each round asks for what costs
the fewest requests (plan_round): a list page shows up to a thousand
backups' statuses at once, so backups are read from the project's list
or their volumes' lists where those cost less than a GET each.

A backup absent from a list is gone only where the list can say so: the
list was complete (every page read, none failed), the server applied its
filter (no record left out as not matching: vbsclient.api.listing), and
this run has seen the backup in that same list before (so it belongs
there: an admin's backup of another project is never in the project's
list). Anything less, and a GET decides. Ends are settle.polled's: gone,
or failed on the server (error_deleting); a poll that fails is no end.
"""

import dataclasses
import threading

from vbsclient.api import concurrency
from vbsclient.api import errors
from vbsclient.api import listing
from vbsclient.api import settle

FIRST_DELAY = 1.0
# Seconds between rounds (the run's, from --wait-interval).
INTERVAL = 2.0
# Records asked for per list page; the server may send fewer.
PAGE = 1000
# The scope of the project's own list (other scopes: a volume's ID).
PROJECT = None
# The pages of a list found longer than its guess: not asked for again.
TOO_LONG = float('inf')


@dataclasses.dataclass
class Waited:
    """What a wait saw: ends (backup ID -> its End), when each was seen
    ending (the run's clock), and what the last poll of each backup
    still pending showed (its status, or why the poll failed).
    """

    ends: dict = dataclasses.field(default_factory=dict)
    ended_at: dict = dataclasses.field(default_factory=dict)
    pending: dict = dataclasses.field(default_factory=dict)


class Sightings:
    """What a run learnt of its lists, shared by all its waits: the
    volume of each backup, the backups seen in each scope's list (the
    project's, a volume's), and how many pages each scope's list took.
    """

    def __init__(self):
        self.volumes = {}  # backup ID key -> its volume's ID
        self.seen = {}     # scope -> backup ID keys seen in its list
        self.pages = {}    # scope -> pages its last list took (or more)
        self.lock = threading.Lock()

    def listed(self, scope, records):
        """Records of the scope's list (PROJECT, or a volume's ID)."""
        with self.lock:
            seen = self.seen.setdefault(scope, set())
            for record in records:
                key = listing.id_key(record['id'])
                seen.add(key)
                volume = record.get('volume_id')
                if isinstance(volume, str) and volume:
                    self.volumes[key] = volume
                    # A record that shows its volume is one of its list.
                    self.seen.setdefault(volume, set()).add(key)


@dataclasses.dataclass(frozen=True)
class Round:
    """One round's requests: lists ((scope, most pages) each) and GETs."""

    lists: tuple = ()
    gets: tuple = ()

    @property
    def cost(self):
        return sum(most for _, most in self.lists) + len(self.gets)


def plan_round(backup_ids, sightings):
    """The round that reads every backup in `backup_ids` with the fewest
    requests, by what the run knows (pure: nothing is sent).

    A list is worth it only where it costs fewer requests than the GETs
    it replaces. A scope whose list length is unknown is guessed at one
    page and allowed only that: a longer list is cut short (one request
    spent) and not asked for again in the run; its backups not seen are
    asked for one by one. A known length is allowed up to one page fewer
    than the GETs it replaces.
    """
    ids = list(backup_ids)
    by_volume = {}
    for backup_id in ids:
        volume = sightings.volumes.get(listing.id_key(backup_id))
        by_volume.setdefault(volume, []).append(backup_id)
    lists, gets = [], []
    for volume, members in by_volume.items():
        if volume is not None and \
                sightings.pages.get(volume, 1) < len(members):
            lists.append((volume, _most(sightings, volume, len(members))))
        else:
            gets.extend(members)
    by_volumes = Round(tuple(lists), tuple(gets))
    cheapest = min(len(ids), sum(sightings.pages.get(v, 1)
                                 for v, _ in lists) + len(gets))
    if sightings.pages.get(PROJECT, 1) < cheapest:
        return Round(((PROJECT, _most(sightings, PROJECT, cheapest)),))
    if cheapest < len(ids):
        return by_volumes
    return Round(gets=tuple(ids))


def _most(sightings, scope, instead):
    """The pages a scope's list may take: one if its length is unknown,
    else up to one fewer than the `instead` requests it replaces.
    """
    return instead - 1 if scope in sightings.pages else 1


def survey(run):
    """Read the project's list (one page at most) before the deletes,
    so that a backup absent from it later is gone without a GET: on a
    server that deletes in a moment, most are gone by the first round.

    Returns (records read: ID -> record, whether the list was complete):
    a backup whose record reports dependents is held back from the first
    deletes (vbsclient.api.deletion).
    """
    if PROJECT in run.sightings.pages:
        return {}, False
    records, complete = _read_list(run, PROJECT, 1)
    return {r['id']: r for r in records.values()}, complete


def until_gone(run, backup_ids, first_delay=FIRST_DELAY, on_round=None):
    """Wait for the backups (IDs of accepted deletes); return Waited.

    on_round(pending IDs) is called before each round. The first round
    comes first_delay after the call; the pause doubles from there up to
    run.interval, then stays: a steady pace, so that the wait ends within
    about one interval of the last deletion. It ends when every backup
    has ended, the run's wait deadline passes or the run stops.
    """
    waited = Waited(pending={i: None for i in backup_ids})
    deadline = run.wait_deadline()  # all waiting shares the timeout
    pause, turn = first_delay, 0
    while waited.pending and not run.stopped:
        left = deadline - run.clock()
        run.sleep(max(0.0, min(pause, left)))
        if run.stopped:
            break
        if on_round:
            on_round(list(waited.pending))
        # The last round reads every backup: each gets a true end.
        saws = _round(run, list(waited.pending), turn, last=pause >= left)
        for backup_id, saw in saws.items():
            _note(waited, backup_id, saw, run.clock())
        if run.clock() >= deadline:
            break
        pause, turn = min(pause * 2, run.interval), turn + 1
    return waited


def _round(run, backup_ids, turn=0, last=True):
    """Read the backups of the round: backup ID -> Saw (or None: not
    read, the run stopped); those left out keep what was last seen.

    Where each backup costs a GET, one is asked for first, in turn (as
    openstacksdk's wait_for_delete does, one resource after the other):
    deletions made together end together, so only once it has ended are
    the others asked for. The last round asks for all.
    """
    plan = plan_round(backup_ids, run.sightings)
    by_volume = {}  # once a round, not once a scope: many volumes, many IDs
    for backup_id in backup_ids:
        by_volume.setdefault(run.sightings.volumes.get(
            listing.id_key(backup_id)), []).append(backup_id)
    saws, complete = {}, False
    for scope, most in plan.lists:
        members = backup_ids if scope is PROJECT else by_volume.get(scope, [])
        shown, whole = _from_list(run, scope, most, members)
        saws.update(shown)
        complete = complete or whole
    asked = [i for i in backup_ids if i not in saws]
    # After a complete list, those left are likely gone: all are asked.
    if not complete and len(asked) > 1 and not last:
        first = asked[turn % len(asked)]
        saws[first] = look(run.for_backup(), first)
        if settle.polled(saws[first]) is None:
            return saws
        asked.remove(first)
    saws.update(zip(asked, concurrency.ordered_map(
        lambda i: look(run.for_backup(), i), asked, run.parallel,
        stop=run.stopping, skipped=lambda i: None)))
    return saws


def _from_list(run, scope, most, members):
    """What the scope's list shows of `members` (backup ID -> Saw, for
    those it can tell of; the others are left to a GET), and whether
    the list was complete.
    """
    seen_before = set(run.sightings.seen.get(scope, ()))
    records, complete = _read_list(run, scope, most)
    saws = {}
    for backup_id in members:
        key = listing.id_key(backup_id)
        if key in records:
            saws[backup_id] = settle.Saw(record=records[key])
        elif complete and key in seen_before:
            saws[backup_id] = settle.Saw(absent=True)
    return saws, complete


def _read_list(run, scope, most):
    """The scope's list, at most `most` pages: (records read, by ID key;
    whether it was complete, which the run's sightings learn).
    """
    report = listing.Report()
    filters = {} if scope is PROJECT else {'volume_id': scope}
    records = {}
    try:
        for record in run.for_backup().list(
                detailed=True, limit=PAGE, most_pages=most, report=report,
                **filters):
            records[listing.id_key(record['id'])] = record
        complete = report.filters_applied
    except errors.ListCutShort:
        complete = False
        with run.sightings.lock:  # longer than allowed: learnt
            known = scope in run.sightings.pages
            run.sightings.pages[scope] = most + 1 if known else TOO_LONG
    except errors.VbsError:
        complete = False  # a failed page: the GETs decide, from now on
        with run.sightings.lock:
            run.sightings.pages[scope] = TOO_LONG
    if complete:
        with run.sightings.lock:
            run.sightings.pages[scope] = max(1, report.pages)
        run.sightings.listed(scope, records.values())
    return records, complete


def _note(waited, backup_id, saw, now):
    if saw is None:
        return  # not polled: the run stopped
    end = settle.polled(saw)
    if end is not None:
        waited.ends[backup_id] = end
        waited.ended_at[backup_id] = now
        del waited.pending[backup_id]
    elif saw.error is not None:
        waited.pending[backup_id] = 'unknown (%s)' % saw.error
    else:
        waited.pending[backup_id] = saw.status


def look(client, backup_id):
    """GET the backup: what it showed (settle.Saw)."""
    try:
        return settle.Saw(record=client.get(backup_id))
    except errors.VbsError as exc:
        return settle.Saw(error=exc)
