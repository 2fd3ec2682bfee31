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

"""The chain planner (vbsclient.api.chains.plan): examples, and properties
checked against the model itself (chains.links, one parent at a time)
on generated volumes.
"""

import hypothesis
from hypothesis import strategies as st

from vbsclient.api import chains

STATUSES = ('available', 'error', 'creating', 'deleting', 'error_deleting',
            'restoring')


def backup(number, volume='vol-1', incremental=True, status='available',
           made=None):
    return {'id': 'b%03d' % number, 'name': 'n%d' % number,
            'volume_id': volume, 'is_incremental': incremental,
            'status': status,
            'created_at': '2026-11-27T10:%02d:%02d' % divmod(
                number if made is None else made, 60)}


def history(*kinds, volume='vol-1', start=0, statuses=None):
    """A volume's backups in time order: 'F' full, 'I' incremental."""
    statuses = statuses or {}
    return [backup(start + n, volume, kind == 'I',
                   statuses.get(start + n, 'available'))
            for n, kind in enumerate(kinds)]


def ids(records):
    return [r['id'] for r in records]


# -- examples -----------------------------------------------------------------

def test_a_chain_goes_newest_first_in_waves():
    records = history('F', 'I', 'I', 'I')
    plan = chains.plan(records[:3], records, ids(records))
    assert [(s.parent, s.wave, s.waits, s.dependents)
            for s in plan.steps] == [
        ('b002', 0, ('b003',), 1),
        ('b001', 1, ('b002',), 1),   # b002's step waits for b003
        ('b000', 2, ('b001',), 1)]
    assert plan.refusals == {}
    assert [[s.parent for s in wave] for wave in plan.waves()] == [
        ['b002'], ['b001'], ['b000']]


def test_a_full_backup_ends_the_chain_before_it():
    records = history('F', 'I', 'F', 'I', 'I')
    plan = chains.plan([records[0], records[2]], records, ids(records))
    steps = {s.parent: s for s in plan.steps}
    assert steps['b000'].waits == ('b001',)
    assert steps['b002'].waits == ('b003',)  # b003's own: b004
    assert steps['b000'].wave == steps['b002'].wave == 0  # independent


def test_a_dependent_neither_named_nor_deleting_is_in_the_way():
    records = history('F', 'I', 'I', statuses={1: 'creating'})
    plan = chains.plan(records[:1], records, ['b000'])
    assert plan.steps == ()
    refusal = plan.refusals['b000']
    # b002's parent is b000 too: b001, creating, was not available.
    assert (ids(refusal.in_the_way), refusal.count) == (['b001', 'b002'], 2)
    assert chains.describe(refusal.in_the_way, total=refusal.count,
                           status=True) == 'b001 (n1, creating), b002 (n2)'


def test_a_dependent_deleted_elsewhere_is_waited_for():
    records = history('F', 'I', 'I', statuses={1: 'deleting'})
    [step] = chains.plan(records[:1], records, ['b000']).steps
    assert (step.waits, step.dependents, step.elsewhere) == (
        ('b001',), 1, 1)


def test_a_parent_with_a_refused_parent_among_its_dependents_is_refused():
    records = history('F', 'I', 'I')
    plan = chains.plan(records[:2], records, ['b000', 'b001'])
    assert set(plan.refusals) == {'b000', 'b001'}
    assert ids(plan.refusals['b000'].in_the_way) == ['b002']


def test_volumes_are_planned_apart_and_other_volumes_ignored():
    one = history('F', 'I', volume='vol-1')
    two = history('F', 'I', volume='vol-2', start=10)
    other = history('F', 'I', volume='vol-3', start=20)
    plan = chains.plan([one[0], two[0]], one + two + other,
                       ['b000', 'b001', 'b010', 'b011'])
    assert sorted((s.parent, s.waits) for s in plan.steps) == [
        ('b000', ('b001',)), ('b010', ('b011',))]


def test_a_parent_missing_from_the_list_is_placed_by_its_own_record():
    records = history('F', 'I', 'I')
    plan = chains.plan(records[:1], records[1:], ids(records))
    assert [(s.parent, s.waits) for s in plan.steps] == [('b000', ('b001',))]


def test_a_refusal_keeps_only_the_oldest_in_its_way_and_counts_them_all():
    # 25 incrementals of ever older snapshots: each one's parent is the
    # full backup, the only one whose data is older.
    records = history('F', *['I'] * 25)
    for n, record in enumerate(records[1:]):
        record['data_timestamp'] = '2026-11-27T09:59:%02d' % (59 - n)
    records[0]['data_timestamp'] = '2026-11-27T09:00:00'
    refusal = chains.plan(records[:1], records, ['b000']).refusals['b000']
    assert refusal.count == 25
    assert ids(refusal.in_the_way) == ids(records[-chains.SHOWN:][::-1])
    assert chains.describe(refusal.in_the_way, total=refusal.count).endswith(
        'and 15 more')


def test_a_long_chain_costs_a_step_each_and_waits_linear_in_its_length():
    records = history('F', *['I'] * 5000)
    plan = chains.plan(records[:-1], records, ids(records))
    assert len(plan.steps) == 5000
    assert sum(len(s.waits) for s in plan.steps) == 5000
    assert plan.steps[0].parent == records[-2]['id']
    assert plan.steps[-1].wave == 4999


def test_the_same_time_is_ordered_by_id():
    first = backup(1, incremental=False, made=5)
    second = backup(2, made=5)
    [step] = chains.plan([first], [second, first], ['b001', 'b002']).steps
    assert step.waits == ('b002',)


def test_a_full_backup_goes_after_its_incremental_of_the_same_second():
    # Found by the prune property (tests/cli/test_prune_chains.py): the
    # full and its incremental made in one second shared a wave, so the
    # full's DELETE went out with its incremental's and was refused.
    for full_number in (1, 3):  # the full's ID sorts before or after
        full = backup(full_number, incremental=False, made=60)
        incremental = backup(2, made=60)
        newest = backup(4, made=120)
        records = [full, incremental, newest]
        for record, dependents in ((full, True), (incremental, True),
                                   (newest, False)):
            record['has_dependent_backups'] = dependents
        plan = chains.plan([full, incremental], records, ids(records))
        first, then = plan.steps
        assert (first.parent, first.wave, first.waits) == (
            'b002', 0, ('b004',))
        assert (then.parent, then.wave) == (full['id'], 1)
        assert 'b002' in then.waits


def test_incrementals_of_one_second_each_maybe_the_others_parent_go_together():
    first, second = backup(1, made=60), backup(2, made=60)
    full = backup(0, incremental=False, made=0)
    newest = backup(3, made=120)
    records = [full, first, second, newest]
    for record in records:
        record['has_dependent_backups'] = record is not newest
    plan = chains.plan([first, second], records, ids(records))
    assert {(s.parent, s.wave, s.waits) for s in plan.steps} == {
        ('b001', 0, ('b002',)), ('b002', 0, ('b001', 'b003'))}


def test_on_its_way():
    assert chains.on_its_way({'status': 'available'})
    assert chains.on_its_way({'status': 'deleting'})
    assert chains.on_its_way({})
    assert not chains.on_its_way({'status': 'creating'})
    assert chains.on_its_way({'status': 'creating'}, force=True)


# -- properties ---------------------------------------------------------------

@st.composite
def volumes(draw):
    """Backups of 1 to 3 volumes, with times that may tie; the parents to
    plan, the IDs named, and the records in a shuffled order.
    """
    records, number = [], 0
    for volume in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(0, 12))):
            records.append(backup(
                number, 'vol-%d' % volume, draw(st.booleans()),
                draw(st.sampled_from(STATUSES)), draw(st.integers(0, 15))))
            number += 1
    every = ids(records)
    parents = draw(st.lists(st.sampled_from(every), unique=True)
                   if every else st.just([]))
    named = set(parents) | set(draw(st.lists(st.sampled_from(every))
                                    if every else st.just([])))
    records = draw(st.permutations(records))
    return records, [r for r in records if r['id'] in parents], named


def dependents(parent, volume_backups):
    """The backups that may depend on `parent` (chains.links), oldest
    first.
    """
    return list(chains.links(volume_backups).dependents.get(parent['id'],
                                                            ()))


def _dependents(plan_input):
    records, parents, _ = plan_input
    return {p['id']: dependents(
        p, [r for r in records if r['volume_id'] == p['volume_id']])
        for p in parents}


def _waitable(record, named):
    return record['id'] in named or record['status'] == 'deleting'


PROPERTY = hypothesis.settings(  # database=None: no .hypothesis/ left
    max_examples=200, deadline=None, database=None)


@PROPERTY
@hypothesis.given(volumes())
def test_every_parent_gets_one_step_or_one_refusal(plan_input):
    records, parents, named = plan_input
    plan = chains.plan(parents, records, named)
    stepped = [s.parent for s in plan.steps]
    assert len(stepped) == len(set(stepped))
    assert set(stepped).isdisjoint(plan.refusals)
    assert set(stepped) | set(plan.refusals) == set(ids(parents))


@PROPERTY
@hypothesis.given(volumes())
def test_a_refusal_iff_a_dependent_is_neither_named_nor_deleting(
        plan_input):
    records, parents, named = plan_input
    plan = chains.plan(parents, records, named)
    for parent, found in _dependents(plan_input).items():
        in_the_way = [d for d in found if not _waitable(d, named)]
        refused = [d for d in found if d['id'] in plan.refusals
                   and d['id'] != parent]
        refusal = plan.refusals.get(parent)
        assert (refusal is not None) == bool(in_the_way or refused)
        if refusal:
            assert refusal.count >= len(in_the_way)
            assert set(map(id, in_the_way[:chains.SHOWN])) <= set(
                map(id, refusal.in_the_way)) or len(
                    refusal.in_the_way) == chains.SHOWN


@PROPERTY
@hypothesis.given(volumes())
def test_a_parent_goes_in_a_later_wave_than_its_dependent_parents(
        plan_input):
    records, parents, named = plan_input
    plan = chains.plan(parents, records, named)
    waves = {s.parent: s.wave for s in plan.steps}
    made = {r['id']: r['created_at'] for r in records}
    assert [s.wave for s in plan.steps] == sorted(waves.values())
    everyone = _dependents(plan_input)
    for parent, found in everyone.items():
        if parent in waves:
            for dependent in found:
                if dependent['id'] in waves:
                    # Each may depend on the other (made in the same
                    # second): which came first is not known, so they go
                    # together.
                    mutual = made[parent] == made[dependent['id']] and \
                        parent in ids(everyone[dependent['id']])
                    assert waves[parent] >= waves[dependent['id']] + (
                        not mutual)


@PROPERTY
@hypothesis.given(volumes())
def test_deleting_in_wave_order_meets_no_dependent_not_waited_for(
        plan_input):
    records, parents, named = plan_input
    plan = chains.plan(parents, records, named)
    found = _dependents(plan_input)
    gone = set()
    for wave in plan.waves():
        for step in wave:
            dependent_ids = set(ids(found[step.parent]))
            assert set(step.waits) <= dependent_ids  # waits for no other
            assert dependent_ids <= gone | set(step.waits)
            assert step.dependents == len(dependent_ids)
            assert step.elsewhere == sum(1 for d in found[step.parent]
                                         if d['id'] not in named)
        for step in wave:  # a wave goes as a whole
            gone |= set(step.waits) | {step.parent}


@PROPERTY
@hypothesis.given(volumes())
def test_the_plan_names_no_backup_outside_its_input(plan_input):
    records, parents, named = plan_input
    plan = chains.plan(parents, records, named)
    known = set(ids(records))
    for step in plan.steps:
        assert {step.parent, *step.waits} <= known
    for parent, refusal in plan.refusals.items():
        assert parent == refusal.parent and parent in known
        assert all(r in records for r in refusal.in_the_way)
