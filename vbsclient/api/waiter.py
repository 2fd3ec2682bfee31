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

"""The one "wait until gone", for --wait and for a chain's parents.

Polls every pending backup (a GET each, in parallel, through the run),
then pauses with back-off, until each has ended (gone, or failed on the
server: vbsclient.api.settle.polled), the run's wait deadline passes, or
the run stops. A poll that fails is no end: the next round asks again.
"""

import dataclasses

from vbsclient.api import concurrency
from vbsclient.api import errors
from vbsclient.api import settle

FIRST_DELAY = 1.0
MAX_DELAY = 10.0


@dataclasses.dataclass
class Waited:
    """What a wait saw: ends (backup ID -> its End), when each was seen
    ending (the run's clock), and what the last poll of each backup
    still pending showed (its status, or why the poll failed).
    """

    ends: dict = dataclasses.field(default_factory=dict)
    ended_at: dict = dataclasses.field(default_factory=dict)
    pending: dict = dataclasses.field(default_factory=dict)


def until_gone(run, backup_ids, first_delay=FIRST_DELAY, on_round=None):
    """Wait for the backups (IDs of accepted deletes); return Waited.

    on_round(pending IDs) is called before each round of polls. The
    pauses start at first_delay and double, up to MAX_DELAY.
    """
    waited = Waited(pending={i: None for i in backup_ids})
    deadline = run.wait_deadline()  # all waiting shares the timeout
    delay = first_delay
    while waited.pending:
        if on_round:
            on_round(list(waited.pending))
        for backup_id, saw in zip(list(waited.pending), list(
                concurrency.ordered_map(
                    lambda i: _look(run, i), list(waited.pending),
                    run.parallel, stop=run.stopping,
                    skipped=lambda i: None))):
            _note(waited, backup_id, saw, run.clock())
        remaining = deadline - run.clock()
        if not waited.pending or remaining <= 0 or run.stopped:
            break
        run.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_DELAY)
    return waited


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


def _look(run, backup_id):
    return look(run.for_backup(), backup_id)


def look(client, backup_id):
    """GET the backup: what it showed (settle.Saw)."""
    try:
        return settle.Saw(record=client.get(backup_id))
    except errors.VbsError as exc:
        return settle.Saw(error=exc)
