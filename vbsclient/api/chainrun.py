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

"""The chain phase of a deletion run: the backups whose delete was refused
because incremental backups depend on them (vbsclient.api.chains).

One detailed list per volume, for the whole run (VolumeRecords), then
chains.plan(); the parents go wave by wave. Each parent's delete is tried
once its dependents have taken as long as the last ones took (then it is
accepted, with no poll); only if it is refused are the dependents it
waits for polled, until they are gone, and the delete sent again. In an
exact run (a prune's) a held parent is never refused: it is sent only
once its dependents were seen gone. The wait never changes a dependent's
own outcome: if a dependent does not go, only its parent fails.
"""

from vbsclient.api import chains
from vbsclient.api import concurrency
from vbsclient.api import errors
from vbsclient.api.outcome import Result
from vbsclient.api import settle
from vbsclient.api import waiter

_ON_ITS_WAY = (Result.DELETED, Result.GONE, Result.WOULD_DELETE)
# A dependent accepted a moment ago is often gone within a second: the
# polls start sooner than --wait's, and the sooner the first one, the
# closer the time a chain's level takes is learnt (a parent's first try
# waits that long).
FIRST_DELAY = 0.05
# The most a parent waits, before its first try, for its dependents to
# take as long to go as the last ones took.
MOST_EXPECTED = 10.0


class ChainRun:
    """The chain phase of a run (vbsclient.api.run.Run): plans the
    parents' waves (chains.plan) and hands each wave to Steps.

    send(client, outcome): one backup's delete, settled (accepted,
    blocked or failed); ours(ID): whether this run named a backup it is
    not handing over here; volumes: the run's
    vbsclient.api.volume_records.VolumeRecords; exact: a
    held parent is sent only once its dependents were seen gone, and one
    the plan refuses is not sent at all (a prune's plan: the server
    never has to refuse a DELETE).
    """

    def __init__(self, run, send, volumes, ours=None, force=False,
                 exact=False):
        self._run, self._volumes, self._force = run, volumes, force
        self._exact = exact
        self._records, self._named = volumes.records, {}
        self._steps = Steps(run, send, self._named, self._records,
                            ours or (lambda backup_id: False), exact)

    def delete(self, outcomes):
        """Delete the parents among `outcomes` that were refused (blocked):
        each ends accepted or failed. Nothing is sent after a stop: a
        parent not sent again fails, its delete refused, "interrupted".
        """
        parents = [o for o in outcomes if o.blocked_by_dependents]
        if parents:
            for wave in self._plan(outcomes, parents).waves():
                self._run.progress.waiting(sum(p.blocked_by_dependents
                                               for p in parents))
                list(concurrency.ordered_map(
                    self._steps.together, _mutual(wave), self._run.parallel,
                    stop=self._run.stopping, skipped=lambda step: None))
        for parent in (p for p in parents if p.blocked_by_dependents):
            parent.settle(settle.parent_interrupted(parent.held,
                                                    parent.error))

    def order(self, outcomes, records):
        """A dry run's outcomes (records: ID -> each one's record) in the
        order a run would delete them; a parent that cannot go fails.
        """
        parents = [o for o in outcomes if o.result is Result.WOULD_DELETE
                   and records[o.backup_id].get('has_dependent_backups')]
        self._volumes.saw(records)
        steps = {s.parent: s for s in self._plan(outcomes, parents).steps}
        for step in steps.values():
            if step.dependents:
                self._named[step.parent].settle(settle.End(
                    Result.WOULD_DELETE, 'after the %d incremental '
                    'backup(s) that depend on it are gone%s'
                    % (step.dependents, _elsewhere(step))))
        return sorted(outcomes, key=lambda o: steps[o.backup_id].wave + 1
                      if o.backup_id in steps else 0)

    def _plan(self, outcomes, parents):
        _learn(self._run, parents, self._volumes)
        self._named.clear()  # shared with the steps
        self._named.update({o.backup_id: o for o in outcomes if o.backup_id
                            and (o.blocked_by_dependents
                                 or o.result in _ON_ITS_WAY)})
        # A dry run's would-delete is on its way only in a status that a
        # delete can take; a real run's accepted delete is, whatever.
        named = [i for i, o in self._named.items()
                 if o.result is not Result.WOULD_DELETE or chains.on_its_way(
                     self._records.get(i, {}), self._force)]
        parents = [p for p in parents if p.backup_id in self._records
                   and (p.blocked_by_dependents or not p.failed)]
        plan = chains.plan([self._records[p.backup_id] for p in parents],
                           self._records.values(), named)
        for refusal in plan.refusals.values():
            parent = self._named[refusal.parent]
            if parent.held and not self._exact:
                self._steps.send(parent)  # listed a moment ago: the server
                if not parent.blocked_by_dependents:  # knows better
                    continue
            _fail(parent, 'incremental backups of its volume that this run '
                          'does not delete depend on it: %s'
                  % chains.describe(refusal.in_the_way, total=refusal.count,
                                    status=True), remain=True)
        return plan


class Steps:
    """Carries out a plan's steps (chains.Step): each parent sent once
    its dependents are gone, or tried once they have taken as long as
    the last ones (Pace), and again after a refusal once they are gone.

    named: backup ID -> the Outcome of each backup of the run that
    counts (ChainRun's, filled in as it plans); records: ID -> record.
    """

    def __init__(self, run, send, named, records, ours, exact):
        self._run, self._send_one = run, send
        self._named, self._records = named, records
        self._ours, self._exact = ours, exact
        self._pace = Pace(run)

    def together(self, steps):
        """Parents of one wave that may each depend on another (made in
        the same second): which goes first only the server knows. Apart
        from an exact run's, they go together, and a refusal sorts them
        out. An exact run asks each one's record, once the others they
        wait for are gone, and sends those that report no dependents,
        then the rest, so that none is refused.
        """
        mates = {s.parent for s in steps}
        if not (self._exact and len(steps) > 1):
            # Each in a thread of its own: one refused waits for the others.
            list(concurrency.ordered_map(
                lambda step: self._step(step, mates - {step.parent}), steps,
                len(steps), stop=self._run.stopping, skipped=lambda s: None))
            return
        pending = steps
        while pending:
            mates = {s.parent for s in pending}
            free = [s for s in pending if self._free(s, mates)]
            if self._run.stopped:
                return
            for step in free or pending:  # none: the server decides
                self._step(step, mates - {step.parent})
            pending = [s for s in pending if free and s not in free]

    def send(self, parent):
        """Send a parent's delete (settled); one the stop kept unsent is
        interrupted.
        """
        held, refusal = parent.held, parent.error
        self._send_one(self._run.for_backup(), parent)
        if parent.result is Result.DELETED:
            self._pace.accepted(parent.backup_id)
        if parent.result is Result.NOT_ATTEMPTED:  # the stop kept it
            parent.settle(settle.parent_interrupted(held, refusal))

    def _free(self, step, mates):
        """Whether a parent's record, once its dependents outside `mates`
        are gone, reports none left (a GET).
        """
        parent = self._named[step.parent]
        if not parent.blocked_by_dependents:
            return True  # settled already: nothing to send
        outside = [w for w in step.waits if w not in mates]
        if outside and not self._waited(parent, outside):
            return True  # failed: its step says so, sending nothing
        saw = waiter.look(self._run.for_backup(), step.parent)
        return saw.record is None or not chains.reports_dependents(
            saw.record)

    def _step(self, step, mates=()):
        parent = self._named[step.parent]
        if not parent.blocked_by_dependents:
            return  # failed while its mates were sorted out
        # Parents that may each depend on another go together.
        waits = [w for w in step.waits if w not in mates]
        lost = [w for w in waits if w in self._named
                and self._named[w].result not in _ON_ITS_WAY]
        if lost:
            return _fail(parent, 'incremental backups that depend on it '
                                 'were not deleted: %s' % self._about(lost))
        if parent.held and (self._exact or not self._pace.known):
            # Never sent: sent once its dependents are seen gone, so that
            # the server need not refuse it; looked for once they have
            # taken as long as the last ones did.
            self._pace.expect(waits)
            if not self._waited(parent, waits):
                return
        else:
            self._pace.expect(step.waits)
        self.send(parent)
        if not parent.blocked_by_dependents:
            return  # accepted, or failed for a reason of its own
        if not step.waits:
            # The server knows of a dependent its list does not show.
            return _fail(parent, 'refused again, although the list of its '
                                 'volume shows no backup depending on it',
                         remain=True)
        if self._waited(parent, step.waits):
            self.send(parent)
            if parent.blocked_by_dependents:
                _fail(parent, 'refused again once the incremental backups '
                              'it waited for were gone')

    def _waited(self, parent, waits):
        """Wait until `waits` are gone; True if they are, else fail the
        parent (or leave it to the stop) and return False.
        """
        waited = waiter.until_gone(self._run, waits, first_delay=FIRST_DELAY)
        self._pace.seen(waited)
        if self._run.stopped:
            return False
        ended = [i for i, end in waited.ends.items()
                 if end.result is not Result.GONE]
        if ended:
            _fail(parent, 'its incremental backups ended in status '
                          'error_deleting: %s' % self._about(ended))
        elif waited.pending:
            _fail(parent, self._not_gone(waited.pending))
        return not (ended or waited.pending)

    def _not_gone(self, pending):
        mine = [w for w in pending if w in self._named or self._ours(w)]
        others = [w for w in pending if w not in mine]
        return '; '.join(
            'its incremental backups %s were not gone within %g s: %s'
            % (who, self._run.timeout, self._about(ids)) for who, ids in
            (('deleted by this run', mine), ('being deleted by others',
                                             others)) if ids)

    def _about(self, ids):
        return chains.describe([self._records.get(i, {'id': i})
                                for i in sorted(ids)])


class Pace:
    """How long a chain's level takes to go: when each parent's delete
    was accepted, and how long the last dependent seen gone took from
    there. A chain's deletes take alike, so a parent's first try waits
    that long rather than be refused and poll (on Cinder, 5 requests a
    backup, not 2).
    """

    def __init__(self, run):
        self._run = run
        self._accepted_at, self._takes = {}, None
        self._started = run.clock()

    @property
    def known(self):
        return self._takes is not None

    def accepted(self, backup_id):
        self._accepted_at[backup_id] = self._run.clock()

    def seen(self, waited):
        """Learn from a wait (waiter.Waited) when its backups went."""
        for backup_id, at in waited.ended_at.items():
            if waited.ends[backup_id].result is Result.GONE:
                self._takes = at - self._accepted_at.get(backup_id,
                                                         self._started)

    def expect(self, waits):
        """Wait (stop-aware) until the dependents, accepted when they
        were, have taken as long as the last ones seen gone.
        """
        if self._takes is None or not waits:
            return
        due = max(self._accepted_at.get(w, self._started) for w in waits)
        pause = min(due + self._takes - self._run.clock(), MOST_EXPECTED)
        if pause > 0:
            self._run.sleep(pause)


def _learn(run, parents, volumes):
    """The records of the parents' volumes (VolumeRecords.learn); a
    parent whose volume cannot be listed fails.
    """
    def learn(parent):
        try:
            volumes.learn(run.for_backup(), parent.backup_id)
        except errors.VbsError as exc:
            if not run.stopped:  # else: interrupted
                _fail(parent, 'the backups that depend on it could not be '
                              'listed: %s' % exc, exc)
    list(concurrency.ordered_map(learn, parents, run.parallel,
                                 stop=run.stopping,
                                 skipped=lambda parent: None))


def _mutual(wave):
    """The wave's steps in groups that wait for each other (mates: made
    in the same second), in wave order.
    """
    root = {step.parent: step.parent for step in wave}

    def top(backup_id):
        while root[backup_id] != backup_id:
            backup_id = root[backup_id]
        return backup_id
    for step in wave:
        for wait in step.waits:
            if wait in root:
                root[top(wait)] = top(step.parent)
    groups = {}
    for step in wave:
        groups.setdefault(top(step.parent), []).append(step)
    return list(groups.values())


def _elsewhere(step):
    return (', %d of them being deleted by others' % step.elsewhere
            if step.elsewhere else '')


def _fail(outcome, hint, cause=None, remain=False):
    """Fail a parent: the refusal it got (if any), with what keeps it."""
    outcome.settle(settle.parent_failed(outcome.error, hint, cause, remain))
