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

"""restic's own golden cases of `forget` (TestApplyPolicy), run against
the retention planner (vbsclient.api.retention).

The data is restic's, translated in tests/fixtures/restic (see its
README): restic's input snapshots, its list of policies, and for each
case the snapshots restic keeps, newest first, with restic's reasons.
Each input snapshot becomes one available full backup of one volume;
its ID makes the planner's tie-break (the greater ID is the newer) agree
with restic's stable sort (input order among equal times, newest first):
the earlier in restic's input, the greater the ID.

A case passes when the planner keeps the same backups (the same times,
in the same order, as many of each) and gives each kept backup reasons
that name restic's (compared as sets per backup):

- 'last #k', 'hourly #k', 'daily #k', 'weekly #k', 'monthly #k',
  'yearly #k' are "last snapshot", "hourly snapshot", ... "yearly
  snapshot";
- 'oldest daily' (the oldest backup, kept because the daily rule still
  has room) is "oldest daily snapshot" where restic's data labels the
  oldest so (restic PR #5039); the versions of restic's data read here
  predate that label for every case the planner runs (only case 35, which
  uses options we do not offer, has it), and there restic gives the
  oldest the plain "daily snapshot": so, for a case whose data has no
  "oldest ..." label, 'oldest daily' is "daily snapshot"; likewise for
  the other rules;
- 'within D' is "within D" (D in restic's notation, as the fixture
  writes it);
- 'newest' (the planner's own, for a newest backup no rule keeps) is in
  no restic case: it must never appear.

Cases with options we do not offer (tags, within-hourly and the other
within-* rules) are skipped; so are the cases restic's data could not be
read for (the fixture's "missing", each with why) and the deliberate
differences of DIFFERENCES.
"""

import collections
import json
import os

import pytest

from vbsclient.api import retention
from vbsclient.api import retention_rules

FIXTURE = os.path.join(os.path.dirname(os.path.dirname(__file__)),
                       'fixtures', 'restic', 'policy_keep_snapshots.json')
with open(FIXTURE, encoding='utf-8') as _file:
    GOLDEN = json.load(_file)
CASES = {case['number']: case for case in GOLDEN['cases']}
MISSING = {entry['number']: entry['why'] for entry in GOLDEN['missing']}
# How many ExpirePolicy cases TestApplyPolicy defines (0 to 39) in
# restic's internal/restic/snapshot_policy_test.go at the commit the
# fixture names.
RESTIC_CASE_COUNT = 40

COUNTS = ('last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly')
NOT_OFFERED = ('tags', 'within_hourly', 'within_daily', 'within_weekly',
               'within_monthly', 'within_yearly')
UNLIMITED = retention_rules.UNLIMITED

# Deliberate differences from restic: case number -> why.
DIFFERENCES = {
    0: "an empty policy: restic's data (policy_keep_snapshots_0) keeps "
       "every snapshot ('policy is empty'); prune refuses to run without "
       "a rule (vbsclient/osc/prune.py), and the planner, given none, "
       "keeps only the newest ('newest')",
}


def records(times):
    """One available full backup of volume 'v' per time, in restic's
    input order; the earlier in the input, the greater the ID.
    """
    return [{'id': 'b%04d' % (9999 - index), 'name': 'restic-%d' % index,
             'status': 'available', 'volume_id': 'v', 'created_at': time,
             'is_incremental': False, 'has_dependent_backups': False}
            for index, time in enumerate(times)]


def rules(policy):
    """The planner's Rules for a restic policy of options we offer."""
    counts = {name: UNLIMITED if policy[name] == -1 else policy[name]
              for name in COUNTS if name in policy}
    within = policy.get('within')
    return retention_rules.Rules(
        within=retention_rules.parse_duration(within) if within else None,
        **counts)


def restic_label(reason, oldest_labels):
    """restic's words for one of the planner's reasons."""
    words = reason.split()
    if len(words) == 2 and words[0] in COUNTS and words[1].startswith('#'):
        return '%s snapshot' % words[0]
    if len(words) == 2 and words[0] == 'oldest' and words[1] in COUNTS:
        if oldest_labels:
            return 'oldest %s snapshot' % words[1]
        return '%s snapshot' % words[1]
    return reason  # 'within D' is restic's as it is; anything else differs


def parse(time):
    return retention_rules.parse_time(time)


@pytest.mark.parametrize(
    'number', sorted(set(CASES) | set(MISSING)),
    ids=lambda number: 'case-%d' % number)
def test_restic_case(number):
    if number in MISSING:
        pytest.skip("no restic data: %s" % MISSING[number])
    case = CASES[number]
    policy = case['policy']
    unoffered = [name for name in NOT_OFFERED if name in policy]
    if unoffered:
        pytest.skip('option not offered: %s' % ', '.join(unoffered))
    if number in DIFFERENCES:
        pytest.skip('deliberate difference: %s' % DIFFERENCES[number])

    decisions = retention.plan(records(GOLDEN['snapshots']), rules(policy))

    kept = [d for d in decisions if d.action == retention.KEEP]
    want = case['keep']
    got_times = [parse(d.record['created_at']) for d in kept]
    want_times = [parse(entry['time']) for entry in want]
    assert collections.Counter(got_times) == collections.Counter(
        want_times), 'kept: %s; restic keeps: %s' % (
        sorted(set(got_times) - set(want_times)),
        sorted(set(want_times) - set(got_times)))
    assert got_times == want_times  # newest first, as restic lists them

    assert not [d.record['created_at'] for d in kept
                if 'newest' in d.reasons], "'newest' in a restic case"
    if any(entry['reasons'] is None for entry in want):
        return  # this version of restic's data gives no reasons
    oldest_labels = any(match.startswith('oldest ')
                        for entry in want for match in entry['reasons'])
    got = [(d.record['created_at'],
            sorted({restic_label(reason, oldest_labels)
                    for reason in d.reasons})) for d in kept]
    expected = [(entry['time'], sorted(set(entry['reasons'])))
                for entry in want]
    assert [(parse(time), reasons) for time, reasons in got] == [
        (parse(time), reasons) for time, reasons in expected]


def test_every_restic_case_is_here_or_said_missing():
    numbers = set(range(RESTIC_CASE_COUNT))
    assert set(CASES) | set(MISSING) == numbers
    assert not set(CASES) & set(MISSING)
    assert all(why.strip() for why in MISSING.values())
