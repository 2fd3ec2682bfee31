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

"""What happened to one backup the user named: its Outcome.

An Outcome changes only through settle(), with an End that
vbsclient.api.settle decided: "deleted" is an accepted DELETE, "gone" a
backup the API itself says no longer exists, a failure keeps the error
that caused it.
"""

import dataclasses
import enum

from vbsclient.api import ids


class Result(str, enum.Enum):
    DELETED = 'deleted'                  # the server accepted the delete
    GONE = 'gone'                        # deleted, and seen to be gone
    ALREADY_MISSING = 'already-missing'  # really gone before (ignore-missing)
    WOULD_DELETE = 'would-delete'        # exists; a dry run sent nothing
    FAILED = 'failed'
    NOT_ATTEMPTED = 'not-attempted'      # never sent (the run was stopped)


# Results a run counts as a failure of the backup (exit status 1).
FAILURES = frozenset((Result.FAILED, Result.NOT_ATTEMPTED))


@dataclasses.dataclass(eq=False)  # one per backup: compared by identity
class Outcome:
    argument: str
    backup_id: str = None
    name: str = None
    result: Result = None
    reason: str = None
    request_id: str = None
    # The failure behind a failed result, for whoever reports it.
    error: Exception = dataclasses.field(default=None, repr=False)
    # The backup's status as this run last saw it (None: never seen), so
    # that what to do about a failure follows from what is known.
    status: str = dataclasses.field(default=None, repr=False)
    # Refused while incremental backups depend on it, or held back
    # unsent for them (held): to be sent (again) once those named in the
    # same run are gone (vbsclient.api.chainrun).
    blocked_by_dependents: bool = dataclasses.field(default=False,
                                                    repr=False)
    held: bool = dataclasses.field(default=False, repr=False)
    # Failed for good because backups that stay depend on it: what a
    # prune counts as kept, not failed.
    dependents_remain: bool = dataclasses.field(default=False, repr=False)

    @property
    def failed(self):
        return self.result in FAILURES

    def name_argument(self):
        """Show the argument as typed where a lookup found nothing else:
        as the ID if it is one, else as the name.
        """
        if self.backup_id is None and self.name is None:
            if ids.is_uuid(self.argument):
                self.backup_id = self.argument.lower()
            else:
                self.name = self.argument

    def settle(self, end):
        """Record an End (vbsclient.api.settle, where ends are decided)."""
        self.result = end.result
        self.reason = end.reason
        if end.request_id is not None:  # else the earlier one still tells
            self.request_id = end.request_id
        if end.status is not None:
            self.status = end.status
        self.error = end.error
        self.blocked_by_dependents = end.blocked
        self.held = False
        self.dependents_remain = end.dependents_remain

    def hold(self):
        """Not sent yet, as incremental backups depend on it: sent once
        they are gone, so that the server need not refuse it. Not final.
        """
        self.result = Result.NOT_ATTEMPTED
        self.reason = 'not sent: incremental backups depend on it'
        self.blocked_by_dependents = self.held = True
