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

"""The retention planner (vbsclient.api.retention): examples, and
properties checked on generated volumes against the rules as documented,
one backup at a time, with chains.links as the model of chains.
"""

import datetime

import hypothesis
from hypothesis import strategies as st

from vbsclient.api import chains
from vbsclient.api import retention
from vbsclient.api import retention_rules

UTC = datetime.timezone.utc
KEEP, DELETE, SKIP = retention.KEEP, retention.DELETE, retention.SKIP
# A present after every time of the examples.
LATER = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
OTHER_STATUSES = ('error', 'creating', 'deleting', 'error_deleting',
                  'restoring', 'error_restoring')


def backup(backup_id, created_at, volume='vol-1', status='available',
           incremental=False, dependents=False):
    return {'id': backup_id, 'name': 'n-' + backup_id, 'volume_id': volume,
            'status': status, 'created_at': created_at,
            'is_incremental': incremental,
            'has_dependent_backups': dependents}


def actions(decisions):
    """(ID, action, reason) per decision, in the plan's order."""
    return [(d.record['id'], d.action, d.reason) for d in decisions]


def by_id(decisions):
    return {d.record['id']: (d.action, d.reason) for d in decisions}


# -- examples: the rules ------------------------------------------------------

def test_a_month_of_nightly_backups_with_dailies_and_weeklies():
    # A backup every night of November 2026 at 02:00, and one more on the
    # afternoon of Monday the 30th; keep 7 dailies and 4 weeklies.
    records = [backup('nov%02d' % day, '2026-11-%02dT02:00:01.000000' % day)
               for day in range(1, 31)]
    records.append(backup('nov30pm', '2026-11-30T14:00:00.000000'))
    plan = retention.plan(records, retention_rules.Rules(daily=7, weekly=4))
    kept = [(i, reason) for i, action, reason in actions(plan)
            if action == KEEP]
    assert kept == [
        ('nov30pm', 'daily #1, weekly #1'),   # ISO week 49
        ('nov29', 'daily #2, weekly #2'),     # Sunday: newest of week 48
        ('nov28', 'daily #3'),
        ('nov27', 'daily #4'),
        ('nov26', 'daily #5'),
        ('nov25', 'daily #6'),
        ('nov24', 'daily #7'),
        ('nov22', 'weekly #3'),               # week 47
        ('nov15', 'weekly #4'),               # week 46
    ]
    assert [i for i, action, _ in actions(plan) if action == DELETE] == (
        ['nov30', 'nov23'] + ['nov%02d' % d for d in range(21, 15, -1)]
        + ['nov%02d' % d for d in range(14, 0, -1)])
    assert all(d.reasons == () for d in plan if d.action == DELETE)


def test_days_without_a_backup_do_not_count():
    records = [backup('a', '2026-01-01T10:00:00'),
               backup('b', '2026-01-05T10:00:00'),
               backup('c', '2026-01-20T10:00:00')]
    plan = retention.plan(records, retention_rules.Rules(daily=3))
    assert by_id(plan) == {'c': (KEEP, 'daily #1'), 'b': (KEEP, 'daily #2'),
                           'a': (KEEP, 'daily #3')}


def test_keep_last_hourly_monthly_and_yearly():
    records = [backup('y24', '2024-12-31T23:00:00'),
               backup('y25a', '2025-06-01T00:00:00'),
               backup('y25b', '2025-06-30T10:00:00'),
               backup('h1', '2026-01-01T10:05:00'),
               backup('h2', '2026-01-01T10:55:00'),
               backup('h3', '2026-01-01T11:00:00')]
    plan = retention.plan(records, retention_rules.Rules(
        last=2, hourly=2, monthly=2, yearly=3))
    assert actions(plan) == [
        ('h3', KEEP, 'last #1, hourly #1, monthly #1, yearly #1'),
        ('h2', KEEP, 'last #2, hourly #2'),
        ('h1', DELETE, ''),
        ('y25b', KEEP, 'monthly #2, yearly #2'),
        ('y25a', DELETE, ''),
        ('y24', KEEP, 'yearly #3'),
    ]


def test_keep_within_months_clamps_to_the_end_of_february():
    # The newest is on March 31st: 1m earlier is February 28th (2026 is
    # not a leap year), at the same time of day; "newer than" is strict.
    records = [backup('newest', '2026-03-31T12:00:00.000000'),
               backup('mar01', '2026-03-01T00:00:00Z'),
               backup('after', '2026-02-28T12:00:01Z'),
               backup('cutoff', '2026-02-28T12:00:00.000000'),
               backup('before', '2026-02-28T13:59:59+02:00')]
    within = retention_rules.parse_duration('1m')
    plan = retention.plan(records, retention_rules.Rules(within=within))
    assert actions(plan) == [('newest', KEEP, 'within 1m'),
                             ('mar01', KEEP, 'within 1m'),
                             ('after', KEEP, 'within 1m'),
                             ('cutoff', DELETE, ''),
                             ('before', DELETE, '')]


def test_keep_within_years_and_months_together():
    records = [backup('newest', '2028-02-29T00:00:00'),
               backup('in', '2026-08-29T00:00:01'),
               backup('out', '2026-08-28T23:59:59')]
    plan = retention.plan(records, retention_rules.Rules(
        within=retention_rules.parse_duration('1y6m')), now=LATER)
    assert [a for _, a, _ in actions(plan)] == [KEEP, KEEP, DELETE]
    assert plan[0].reasons == ('within 1y6m',)


def test_within_counts_from_the_newest_available_backup():
    records = [backup('creating', '2026-05-01T00:00:00', status='creating'),
               backup('newest', '2026-04-01T00:00:00'),
               backup('old', '2026-03-30T00:00:00')]
    plan = retention.plan(records, retention_rules.Rules(
        within=retention_rules.parse_duration('36h')))
    assert actions(plan) == [('creating', SKIP, 'creating'),
                             ('newest', KEEP, 'within 36h'),
                             ('old', DELETE, '')]


# -- examples: what is never deleted ------------------------------------------

def test_other_statuses_are_skipped_and_not_counted():
    records = [backup('s%d' % n, '2026-02-%02dT00:00:00' % (20 - n),
                      status=status)
               for n, status in enumerate(OTHER_STATUSES)]
    records += [backup('a1', '2026-02-01T00:00:00'),
                backup('a2', '2026-01-31T00:00:00'),
                backup('odd', '2026-01-30T00:00:00', status=None)]
    plan = retention.plan(records, retention_rules.Rules(last=1, daily=1))
    assert actions(plan) == (
        [('s%d' % n, SKIP, status) for n, status in enumerate(OTHER_STATUSES)]
        + [('a1', KEEP, 'last #1, daily #1'), ('a2', DELETE, ''),
           ('odd', SKIP, 'no status')])


def test_a_backup_that_cannot_be_dated_is_skipped():
    records = [backup('a', '2026-01-01T00:00:00'),
               backup('none', None), backup('bad', 'yesterday')]
    plan = retention.plan(records, retention_rules.Rules(last=1))
    assert by_id(plan) == {'a': (KEEP, 'last #1'),
                           'none': (SKIP, 'created_at missing'),
                           'bad': (SKIP, 'created_at unreadable')}


def test_the_newest_available_backup_is_always_kept():
    records = [backup('error', '2026-03-01T00:00:00', status='error'),
               backup('newest', '2026-02-01T00:00:00'),
               backup('older', '2026-01-01T00:00:00')]
    for rules in (retention_rules.Rules(),
                  retention_rules.Rules(last=0),
                  retention_rules.Rules(
                      within=retention_rules.parse_duration('0h'))):
        assert actions(retention.plan(records, rules)) == [
            ('error', SKIP, 'error'), ('newest', KEEP, 'newest'),
            ('older', DELETE, '')]


def test_a_volume_without_available_backups_is_left_alone():
    records = [backup('e', '2026-01-02T00:00:00', status='error'),
               backup('c', '2026-01-01T00:00:00', status='creating')]
    assert actions(retention.plan(records, retention_rules.Rules(last=1))) == [
        ('e', SKIP, 'error'), ('c', SKIP, 'creating')]


# -- examples: chains ---------------------------------------------------------

def cinder_volume():
    """F0 <- I1 <- I2, F3 <- I4, as Cinder reports them."""
    return [backup('f0', '2026-01-01T00:00:00', dependents=True),
            backup('i1', '2026-01-02T00:00:00', incremental=True,
                   dependents=True),
            backup('i2', '2026-01-03T00:00:00', incremental=True),
            backup('f3', '2026-01-04T00:00:00', dependents=True),
            backup('i4', '2026-01-05T00:00:00', incremental=True)]


def test_a_cinder_chain_keeps_the_parents_of_a_kept_backup():
    plan = retention.plan(cinder_volume(), retention_rules.Rules(last=1))
    assert actions(plan) == [('i4', KEEP, 'last #1'),
                             ('f3', KEEP, 'needed by i4'),
                             ('i2', DELETE, ''),
                             ('i1', DELETE, ''),
                             ('f0', DELETE, '')]


def test_a_chain_is_kept_back_to_its_full_backup():
    records = cinder_volume()
    rules = retention_rules.Rules(
        last=1, within=retention_rules.parse_duration('55h'))
    plan = retention.plan(records, rules)
    assert actions(plan) == [('i4', KEEP, 'last #1, within 55h'),
                             ('f3', KEEP, 'within 55h, needed by i4'),
                             ('i2', KEEP, 'within 55h'),
                             ('i1', KEEP, 'needed by i2'),
                             ('f0', KEEP, 'needed by i1')]


def test_a_dependent_left_alone_keeps_its_parent_unless_deleting():
    for status, parent in (('error', (KEEP, 'needed by i1')),
                           ('creating', (KEEP, 'needed by i1')),
                           ('deleting', (DELETE, ''))):
        records = [backup('f0', '2026-01-01T00:00:00', dependents=True),
                   backup('i1', '2026-01-02T00:00:00', status=status,
                          incremental=True),
                   backup('f2', '2026-01-03T00:00:00')]
        plan = by_id(retention.plan(records, retention_rules.Rules(last=1)))
        assert plan == {'f2': (KEEP, 'last #1'), 'i1': (SKIP, status),
                        'f0': parent}


def test_vbs_like_chains_keep_nothing_extra():
    # VBS: a full backup first, every later one incremental, and none
    # reporting dependents (false, or not reported at all).
    records = [backup('b%d' % n, '2026-01-%02dT00:00:00' % (n + 1),
                      incremental=n > 0)
               for n in range(10)]
    for record in records[::2]:
        del record['has_dependent_backups']
    plan = retention.plan(records, retention_rules.Rules(last=2))
    assert actions(plan) == (
        [('b9', KEEP, 'last #1'), ('b8', KEEP, 'last #2')]
        + [('b%d' % n, DELETE, '') for n in range(7, -1, -1)])


# -- examples: order and time -------------------------------------------------

def test_volumes_in_id_order_newest_first_however_times_are_written():
    records = [backup('z1', '2026-01-01T10:00:00Z', volume='vol-z'),
               backup('a1', '2026-01-01T09:30:00.000000', volume='vol-a'),
               backup('a2', '2026-01-01T11:00:00+02:00', volume='vol-a'),
               backup('a3', '2026-01-01 08:00:00.5-01:30', volume='vol-a'),
               backup('gone', '2026-01-01T00:00:00', volume=None)]
    plan = retention.plan(records, retention_rules.Rules(last=2))
    assert actions(plan) == [('a3', KEEP, 'last #1'),   # 09:30:00.5 UTC
                             ('a1', KEEP, 'last #2'),   # 09:30 UTC
                             ('a2', DELETE, ''),        # 09:00 UTC
                             ('z1', KEEP, 'last #1'),
                             # No volume: skipped, last.
                             ('gone', SKIP, 'no volume ID')]


def test_ties_on_time_go_by_id():
    records = [backup(i, '2026-01-01T00:00:00') for i in ('b', 'c', 'a')]
    plan = retention.plan(records, retention_rules.Rules(last=1, daily=1))
    assert actions(plan) == [('c', KEEP, 'last #1, daily #1'),
                             ('b', DELETE, ''), ('a', DELETE, '')]


# -- properties ---------------------------------------------------------------

BASE = datetime.datetime(2026, 1, 1, tzinfo=UTC)
# The property tests' present: histories reach past it, into the future.
NOW = BASE + datetime.timedelta(days=600)
EARLIEST = datetime.datetime.min.replace(tzinfo=UTC)
ZONES = (None, UTC, datetime.timezone(datetime.timedelta(hours=2)),
         datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)))
# Minutes between the times a volume's backups are drawn from: ties,
# hours, days, weeks, months.
SCALES = (0, 20, 60, 60 * 24, 60 * 24 * 5, 60 * 24 * 40)
STATUSES = ('available',) * 5 + OTHER_STATUSES
DURATIONS = ('0h', '5h', '36h', '2d', '1w', '2w3d', '1m', '1y6m')
BUCKETS = {  # rule -> (time, ID) -> its period
    'last': lambda t, i: (t, i),
    'hourly': lambda t, i: (t.year, t.month, t.day, t.hour),
    'daily': lambda t, i: t.date(),
    'weekly': lambda t, i: t.isocalendar()[:2],
    'monthly': lambda t, i: (t.year, t.month),
    'yearly': lambda t, i: t.year,
}


def written(moment, zone):
    if zone is None:
        return moment.replace(tzinfo=None).isoformat(timespec='microseconds')
    return moment.astimezone(zone).isoformat().replace('+00:00', 'Z')


@st.composite
def histories(draw):
    """Backups of 1 to 3 volumes, in a shuffled order: times that may tie,
    written in any of the API's forms; any status; chains Cinder-like or
    VBS-like (dependents reported or not, whatever the chain).
    """
    records, number = [], 0
    volumes = draw(st.lists(st.sampled_from(('vol-a', 'vol-b', 'vol-c')),
                            min_size=1, max_size=3, unique=True))
    for volume in volumes:
        scale = draw(st.sampled_from(SCALES))
        for _ in range(draw(st.integers(0, 12))):
            moment = BASE + datetime.timedelta(minutes=draw(
                st.integers(0, 30)) * scale + draw(st.integers(0, 2)))
            record = backup('b%03d' % number,
                            written(moment, draw(st.sampled_from(ZONES))),
                            volume, draw(st.sampled_from(STATUSES)),
                            draw(st.booleans()),
                            draw(st.sampled_from((True, False, None))))
            if draw(st.integers(0, 30)) == 0:
                record['created_at'] = None
            records.append(record)
            number += 1
    return draw(st.permutations(records))


def counts():
    return st.none() | st.integers(0, 4) | st.just(retention_rules.UNLIMITED)


RULES = st.builds(
    retention_rules.Rules, last=counts(), hourly=counts(), daily=counts(),
    weekly=counts(), monthly=counts(), yearly=counts(),
    within=st.none() | st.sampled_from(DURATIONS).map(
        retention_rules.parse_duration))

PROPERTY = hypothesis.settings(  # database=None: no .hypothesis/ left
    max_examples=100, deadline=None, database=None)


def limit(rules, name):
    """A count rule's bound, for a slice: None when it is unlimited."""
    count = getattr(rules, name) or 0
    return None if count == retention_rules.UNLIMITED else count


def dependents(parent, volume_backups):
    """The backups that may depend on `parent` (chains.links), oldest
    first.
    """
    return list(chains.links(volume_backups).dependents.get(parent['id'],
                                                            ()))


def when(record):
    try:
        return retention_rules.parse_time(record['created_at'])
    except ValueError:
        return None


def available(records, volume):
    """A volume's candidates, newest first, as (created_at, ID, record)."""
    return sorted(((when(r), r['id'], r) for r in records
                   if r['volume_id'] == volume
                   and r['status'] == 'available' and when(r)),
                  key=lambda c: c[:2], reverse=True)


def volumes_of(records):
    return sorted({r['volume_id'] for r in records})


def stays(decision):
    return decision.action == KEEP or (
        decision.action == SKIP and decision.record['status'] != 'deleting')


def reference(records, rules):
    """ID -> (action, reasons): the rules as documented, one backup and
    one rule at a time, and chains as a fixed point of chains.links.
    """
    found = {}
    for volume in volumes_of(records):
        mine = [r for r in records if r['volume_id'] == volume]
        candidates = available(records, volume)
        reasons = {c[1]: [] for c in candidates}
        for name, bucket in BUCKETS.items():
            keys = sorted({bucket(c[0], c[1]) for c in candidates},
                          reverse=True)
            wanted = getattr(rules, name) or 0
            if wanted == retention_rules.UNLIMITED:
                wanted = len(keys) + 1
            for k, key in enumerate(keys[:wanted]):
                newest = max(c[:2] for c in candidates
                             if bucket(c[0], c[1]) == key)
                reasons[newest[1]].append('%s #%d' % (name, k + 1))
            # The oldest too, while the rule has room (restic 0.17).
            if candidates and len(keys) < wanted and not any(
                    r.startswith(name + ' #')
                    for r in reasons[candidates[-1][1]]):
                reasons[candidates[-1][1]].append('oldest %s' % name)
        if rules.within and candidates:
            past = [c[0] for c in candidates if c[0] <= NOW]
            cutoff = rules.within.before(past[0]) if past else EARLIEST
            for made, backup_id, _ in candidates:
                if made > cutoff:
                    reasons[backup_id].append('within %s' % rules.within)
        if candidates and not reasons[candidates[0][1]]:
            reasons[candidates[0][1]].append('newest')
        staying = {r['id'] for r in mine
                   if (reasons[r['id']] if r['id'] in reasons
                       else r['status'] != 'deleting')}
        parents = [c[2] for c in candidates
                   if c[2]['has_dependent_backups'] is True]
        unknown = chains.links(mine).unknown
        changed = True
        while changed:
            changed = False
            for parent in parents:
                if parent['id'] not in staying and (
                        parent['id'] in unknown or any(
                            d['id'] in staying
                            for d in dependents(parent, mine))):
                    staying.add(parent['id'])
                    changed = True
        for parent in parents:
            needing = [d['id'] for d in dependents(parent, mine)
                       if d['id'] in staying]
            if parent['id'] in unknown:
                reasons[parent['id']].append(
                    'needed by incremental backups the list does not show')
            elif needing:
                reasons[parent['id']].append('needed by %s' % needing[0])
        for record in mine:
            if record['id'] not in reasons:
                found[record['id']] = (SKIP, None)
            elif reasons[record['id']]:
                found[record['id']] = (KEEP, tuple(reasons[record['id']]))
            else:
                found[record['id']] = (DELETE, ())
    return found


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_the_plan_is_the_rules_as_documented(records, rules):
    plan = retention.plan(records, rules, now=NOW)
    expected = reference(records, rules)
    for decision in plan:
        action, reasons = expected[decision.record['id']]
        assert decision.action == action
        if action != SKIP:
            assert decision.reasons == reasons


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_every_record_appears_once_by_volume_newest_first(records, rules):
    plan = retention.plan(records, rules, now=NOW)
    assert sorted(id(d.record) for d in plan) == sorted(map(id, records))
    order = [(d.record['volume_id'], when(d.record) or EARLIEST,
              d.record['id']) for d in plan]
    assert [o[0] for o in order] == sorted(o[0] for o in order)
    for before, after in zip(order, order[1:]):
        if before[0] == after[0]:
            assert before[1:] > after[1:]


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_a_parent_is_kept_while_one_of_its_dependents_is(records, rules):
    plan = retention.plan(records, rules, now=NOW)
    decisions = {d.record['id']: d for d in plan}
    for decision in plan:
        record = decision.record
        if decision.action == SKIP or not record['has_dependent_backups']:
            continue
        mine = [r for r in records if r['volume_id'] == record['volume_id']]
        if record['id'] in chains.links(mine).unknown:
            assert decision.reasons[-1] == ('needed by incremental backups '
                                            'the list does not show')
            continue
        needing = [d['id'] for d in dependents(record, mine)
                   if stays(decisions[d['id']])]
        if needing:
            assert decision.action == KEEP
            assert decision.reasons[-1] == 'needed by %s' % needing[0]
        else:
            assert not any(r.startswith('needed by')
                           for r in decision.reasons)


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_every_volume_keeps_its_newest_available_backup(records, rules):
    decisions = {d.record['id']: d
                 for d in retention.plan(records, rules, now=NOW)}
    for volume in volumes_of(records):
        candidates = available(records, volume)
        if candidates:
            assert decisions[candidates[0][1]].action == KEEP


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_keep_last_keeps_the_newest(records, rules):
    decisions = {d.record['id']: d
                 for d in retention.plan(records, rules, now=NOW)}
    for volume in volumes_of(records):
        for k, candidate in enumerate(
                available(records, volume)[:limit(rules, 'last')]):
            decision = decisions[candidate[1]]
            assert decision.action == KEEP
            assert 'last #%d' % (k + 1) in decision.reasons


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_each_bucket_rule_keeps_the_newest_of_its_recent_buckets(
        records, rules):
    decisions = {d.record['id']: d
                 for d in retention.plan(records, rules, now=NOW)}
    for volume in volumes_of(records):
        candidates = available(records, volume)
        for name, bucket in BUCKETS.items():
            newest = {}
            for made, backup_id, _ in candidates:  # newest first
                newest.setdefault(bucket(made, backup_id), backup_id)
            recent = sorted(newest, reverse=True)[:limit(rules, name)]
            for k, key in enumerate(recent):
                decision = decisions[newest[key]]
                assert decision.action == KEEP
                assert '%s #%d' % (name, k + 1) in decision.reasons
            named = {i for i, d in decisions.items()
                     if d.record['volume_id'] == volume and any(
                         r.startswith(name + ' #') for r in d.reasons)}
            assert named <= set(newest.values())


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_a_second_plan_over_what_stays_deletes_nothing(records, rules):
    kept = [d.record for d in retention.plan(records, rules, now=NOW)
            if d.action in (KEEP, SKIP)]
    assert all(d.action != DELETE
               for d in retention.plan(kept, rules, now=NOW))


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_only_available_backups_are_planned(records, rules):
    for decision in retention.plan(records, rules, now=NOW):
        record = decision.record
        if record['status'] != 'available':
            assert decision.action == SKIP
            assert decision.reasons == (record['status'],)
        elif when(record) is None:
            assert decision.action == SKIP
        else:
            assert decision.action in (KEEP, DELETE)
            assert bool(decision.reasons) == (decision.action == KEEP)


@PROPERTY
@hypothesis.given(histories(), RULES)
def test_a_volume_is_planned_on_its_own(records, rules):
    plan = retention.plan(records, rules, now=NOW)
    for volume in volumes_of(records):
        alone = retention.plan(
            [r for r in records if r['volume_id'] == volume], rules,
            now=NOW)
        assert actions(alone) == [a for d, a in zip(plan, actions(plan))
                                  if d.record['volume_id'] == volume]
