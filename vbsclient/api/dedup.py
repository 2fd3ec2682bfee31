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

"""The same backup named twice is deleted once.

Names are dropped as they repeat; IDs are claimed when resolved (a name
and the ID it resolves to are the same backup). This is the one thing
that grows with a streamed input, so a UUID is kept as a 128-bit
integer, about a third of its text's size.
"""

import threading
import uuid

from vbsclient.api import ids


class Claims:
    def __init__(self):
        self._claimed = set()
        self._lock = threading.Lock()

    def claim(self, backup_id):
        """True the first time a backup comes up."""
        key = _key(backup_id)
        with self._lock:
            if key in self._claimed:
                return False
            self._claimed.add(key)
            return True

    def __contains__(self, backup_id):
        """Whether a backup came up (was claimed) in this run."""
        with self._lock:
            return _key(backup_id) in self._claimed


def _key(backup_id):
    return uuid.UUID(backup_id).int if ids.is_uuid(backup_id) else backup_id


def unique_names(arguments):
    """The arguments with repeated names dropped (streamed).

    IDs pass through: they are de-duplicated when claimed, compactly, and
    remembering them here too would double the memory of a long input.
    """
    seen = set()
    for argument in arguments:
        if ids.is_uuid(argument):
            yield argument
        elif argument not in seen:
            seen.add(argument)
            yield argument
