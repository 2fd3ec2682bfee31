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

"""What a run knows of the volumes its chains are on: each volume's
records from one detailed list, read at most once in the run.

The deletes consult it before they send (a backup whose record reports
dependents is held back, vbsclient.api.deletion) and list a volume as
soon as a delete of it is refused for dependents, so that its parents not
sent yet are held rather than refused too; the chain phase plans from it
(vbsclient.api.chainrun).
"""

import threading

from vbsclient.api import chains
from vbsclient.api import errors

_DONE = threading.Event()
_DONE.set()


class VolumeRecords:
    """Records of whole volumes in a run (vbsclient.api.run.Run).

    known: records (ID -> record) of whole volumes listed already (a
    prune's plan).
    """

    def __init__(self, run, known=None):
        self._run = run
        self.records = {}   # backup ID -> its record
        self._lock = threading.Lock()
        self._listed = {}   # volume ID -> [done Event, error or None]
        self._learning = set()  # Events of the learns under way
        self.known(known or {})

    def known(self, records):
        """Records (ID -> record) of whole volumes, listed already."""
        with self._lock:
            self.records.update(records)
            for record in records.values():
                self._listed.setdefault(record.get('volume_id'),
                                        [_DONE, None])

    def saw(self, records):
        """Records (ID -> record) of single backups, not whole volumes."""
        with self._lock:
            for backup_id, record in records.items():
                self.records.setdefault(backup_id, record)

    def depended_on(self, backup_id):
        """Whether the backup's record, as listed, reports dependents."""
        with self._lock:
            return chains.reports_dependents(self.records.get(backup_id, {}))

    def gate(self, backup_id):
        """The gate of the backup's first DELETE (Pipeline.send): while a
        learn is under way, wait for the list that may show the backup to
        be a parent; then hold it back (errors.Held) if it is one. Asked
        once the request has its slot, so that none queued before a
        refusal goes out to be refused too. Once passed, it stays open: a
        retry of an attempt that may have been carried out is sent.
        """
        passed = []

        def gate():
            if passed:
                return None
            with self._lock:
                under_way = next(iter(self._learning), None)
            if under_way is not None:
                return under_way
            if self.depended_on(backup_id):
                return errors.Held('held back: incremental backups depend '
                                   'on it')
            passed.append(True)
            return None
        return gate

    def learn(self, client, backup_id):
        """List the backup's volume, unless it was (or is being) listed.
        Raises VbsError.

        Its own GET tells its volume, unless its record is known already
        or a learn under way lists it: backups of one chain refused
        together cost one list, not a GET each.
        """
        mine = threading.Event()
        with self._lock:
            before = list(self._learning)
            self._learning.add(mine)
        try:
            for other in before:  # registered earlier: never waits on us
                other.wait()
            with self._lock:
                record = self.records.get(backup_id)
            self._list_volume(client, record or client.get(backup_id),
                              backup_id)
        finally:
            mine.set()
            with self._lock:
                self._learning.discard(mine)

    def learn_soon(self, client, backup_id):
        """learn(), for the deletes of a refused backup's volume: a list
        that fails now is tried again by the chain phase, which says why
        it failed.
        """
        try:
            self.learn(client, backup_id)
        except errors.VbsError:
            pass

    def _list_volume(self, client, record, backup_id):
        volume = record.get('volume_id')
        if not volume:
            raise errors.VbsError('its record names no volume')
        with self._lock:
            mine = volume not in self._listed
            done = self._listed.setdefault(volume, [threading.Event(), None])
        if mine:
            try:
                listed = list(client.list(detailed=True, volume_id=volume))
                with self._lock:
                    self.records.update((b['id'], b) for b in listed)
                self._run.sightings.listed(volume, listed)
            except errors.VbsError as exc:
                done[1] = exc
                with self._lock:  # a later learn tries again
                    del self._listed[volume]
            finally:
                done[0].set()
        done[0].wait()
        if done[1] is not None:
            raise done[1]
        with self._lock:
            self.records.setdefault(backup_id, record)
