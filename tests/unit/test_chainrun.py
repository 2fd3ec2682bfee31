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

"""The chain phase (vbsclient.api.chainrun): backups of an incremental chain
named in any order, a prune's held parents, the waits, the refusals.
"""

import re

import pytest

from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import vbs_calls
from tests.unit.deleting import bulk_delete
from tests.unit.deleting import chain_ids
from tests.unit.deleting import ChainCloud
from tests.unit.deleting import delete
from tests.unit.deleting import FakeClock


@pytest.mark.parametrize('wait', [False, True])
def test_a_chain_named_in_any_order_is_deleted_in_one_run(client, cloud,
                                                          wait):
    first, second = chain_ids(5, 1), chain_ids(3, 2)
    chain_cloud = ChainCloud(cloud, [first, second])
    named = [first[0], second[2], first[3], second[0], first[1], first[4],
             second[1], first[2]]
    outcomes = delete(client, named, wait=wait)
    assert [o.argument for o in outcomes] == named  # input order kept
    assert {o.result for o in outcomes} <= {'deleted', 'gone'}
    assert chain_cloud.backups == {}
    # Every parent went after its incrementals; each was refused at most
    # once per level before that.
    assert chain_cloud.deletes.count(first[0]) <= 5


def test_a_parent_whose_newest_incremental_is_not_named_fails(client,
                                                              cloud):
    chain = chain_ids(4, 3)
    chain_cloud = ChainCloud(cloud, [chain])
    outcomes = delete(client, chain[:3])  # the newest is not named
    failed = [o for o in outcomes if o.failed]
    assert [o.backup_id for o in failed] == chain[:3]
    assert 'Incremental backups exist' in failed[0].reason
    assert chain[3] in failed[0].reason  # names what is in its way
    # Nothing was deleted: not even the part of the chain that was named.
    assert set(chain_cloud.backups) == set(chain)
    assert chain[3] not in chain_cloud.deletes


def test_a_dry_run_shows_the_order_and_flags_unnamed_dependents(client,
                                                                cloud):
    whole, cut = chain_ids(3, 4), chain_ids(3, 5)
    chain_cloud = ChainCloud(cloud, [whole, cut])
    outcomes = delete(client, [whole[0], whole[1], whole[2], cut[0]],
                      dry_run=True)
    assert [(o.backup_id, o.result) for o in outcomes] == [
        (whole[2], 'would-delete'), (cut[0], 'failed'),
        (whole[1], 'would-delete'), (whole[0], 'would-delete')]
    # Its own dependent (whose dependent in turn is cut[2]).
    assert cut[1] in outcomes[1].reason
    assert not chain_cloud.deletes


def test_a_dry_run_fails_a_parent_whose_dependents_cannot_be_listed(
        client, cloud):
    chain = chain_ids(2, 6)
    ChainCloud(cloud, [chain])
    cloud.get(re.compile(re.escape(BACKUPS_URL) + r'/detail'),
              status_code=500, json={'computeFault': {
                  'message': 'The list broke', 'code': 500}},
              headers={'x-openstack-request-id': 'req-list'})
    outcomes = delete(client, chain, dry_run=True)
    parent = next(o for o in outcomes if o.backup_id == chain[0])
    assert parent.result == 'failed'
    assert 'could not be listed' in parent.reason
    assert 'The list broke' in parent.reason
    assert parent.request_id == 'req-list'


def test_a_parent_whose_volume_cannot_be_listed_fails_with_the_lists_error(
        client, cloud):
    chain = chain_ids(2, 17)
    chain_cloud = ChainCloud(cloud, [chain])
    cloud.get(re.compile(re.escape(BACKUPS_URL) + r'/detail'),
              status_code=500, json={'computeFault': {
                  'message': 'The list broke', 'code': 500}},
              headers={'x-openstack-request-id': 'req-list'})
    [outcome] = delete(client, chain[:1])
    assert outcome.failed
    assert 'Incremental backups exist' in outcome.reason
    assert 'could not be listed: The list broke' in outcome.reason
    assert outcome.request_id == 'req-list'
    assert chain_cloud.deletes == chain[:1]


@pytest.mark.parametrize('named', [2, 3])
def test_a_dry_run_fails_parents_of_a_backup_in_creating(client, cloud,
                                                         named):
    chain = chain_ids(3, 7)
    ChainCloud(cloud, [chain], statuses={chain[2]: 'creating'})
    outcomes = delete(client, chain[:named], dry_run=True)
    parents = [o for o in outcomes if o.backup_id in chain[:2]]
    assert [o.result for o in parents] == ['failed', 'failed']
    for parent in parents:
        assert chain[2] in parent.reason and 'creating' in parent.reason


def test_a_backup_in_creating_fails_its_parent_with_no_delete_sent_again(
        client, cloud):
    chain = chain_ids(2, 8)
    chain_cloud = ChainCloud(cloud, [chain],
                             statuses={chain[1]: 'creating'})
    [outcome] = delete(client, chain[:1], wait=True)
    assert outcome.failed
    assert 'Incremental backups exist' in outcome.reason
    assert chain[1] in outcome.reason and 'creating' in outcome.reason
    assert chain_cloud.deletes == chain[:1]


def _deleting_forever(cloud, chain):
    return ChainCloud(cloud, [chain],
                      linger={backup_id: 10 ** 6 for backup_id in chain})


@pytest.mark.parametrize('named, who', [
    (2, 'deleted by this run'), (1, 'being deleted by others')])
def test_a_timeout_tells_dependents_of_this_run_from_others(client, cloud,
                                                            named, who):
    # The incremental is deleted by this run, or by someone else; either
    # way it is not gone within the timeout.
    chain = chain_ids(2, 9)
    chain_cloud = _deleting_forever(cloud, chain)
    if named == 1:
        chain_cloud.backups[chain[1]]['status'] = 'deleting'
    clock = FakeClock()
    full = delete(client, chain[:named], timeout=60, clock=clock)[0]
    assert full.failed
    assert 'does not delete' not in full.reason
    assert ('its incremental backups %s were not gone within 60 s: %s'
            % (who, chain[1])) in full.reason
    assert clock.now == 60


def test_an_accepted_incremental_stays_deleted_at_the_timeout(client, cloud):
    chain = chain_ids(2, 10)
    _deleting_forever(cloud, chain)
    full, incremental = delete(client, chain, timeout=30)
    assert incremental.result == 'deleted' and incremental.reason is None
    assert full.failed
    assert 'deleted by this run were not gone within 30 s' in full.reason
    assert chain[1] in full.reason


def test_a_dependent_deleted_elsewhere_is_waited_for(client, cloud):
    chain = chain_ids(3, 11)
    chain_cloud = ChainCloud(cloud, [chain], statuses={chain[2]: 'deleting'},
                             linger={chain[2]: 2})
    outcomes = delete(client, chain[:2])
    assert [o.result for o in outcomes] == ['deleted', 'deleted']
    assert chain_cloud.backups == {}


@pytest.mark.parametrize('parallel', [1, 4, None])
def test_a_long_chain_named_oldest_first_costs_few_requests(client, cloud,
                                                            parallel):
    # The first refusal lists the volume; the parents not sent yet, queued
    # or not, are held back rather than refused too (issue 24: at most
    # 1.5 requests a backup).
    chain = chain_ids(51, 12)
    chain_cloud = ChainCloud(cloud, [chain])
    outcomes = delete(client, chain, parallel=parallel)
    assert {o.result for o in outcomes} == {'deleted'}
    assert chain_cloud.backups == {}
    assert len(vbs_calls(cloud)) <= 1.5 * len(chain)
    assert sum('/detail' in c.url for c in vbs_calls(cloud)) == 1
    if parallel == 1:
        assert chain_cloud.deletes == [chain[0]] + chain[::-1]


def test_with_wait_the_survey_holds_a_chains_parents_from_the_start(
        client, cloud):
    chain = chain_ids(51, 17)
    chain_cloud = ChainCloud(cloud, [chain])
    outcomes = delete(client, chain, wait=True)
    assert {o.result for o in outcomes} == {'gone'}
    assert chain_cloud.deletes == chain[::-1]  # none refused
    assert len(vbs_calls(cloud)) <= 1.1 * len(chain)


def test_a_held_parent_the_plan_refuses_is_sent_once_the_server_decides(
        client, cloud):
    # Not a prune: the user named it, so the server has the last word.
    chain = chain_ids(3, 18)
    chain_cloud = ChainCloud(cloud, [chain])
    outcomes = delete(client, chain[:2], parallel=1, wait=True)
    assert [o.failed for o in outcomes] == [True, True]
    assert 'Incremental backups exist' in outcomes[0].reason
    assert chain[2] in outcomes[0].reason
    assert sorted(chain_cloud.deletes) == chain[:2]  # each sent once, refused


def test_a_chain_whose_deletes_take_time_is_not_polled_level_by_level(
        client, cloud):
    # On Cinder a delete takes a moment, the same for each backup of a
    # chain: once one level was seen to take it, the next parent waits
    # that long before its first try, instead of being refused and
    # polling (5 requests a backup on the local Cinder, measured; 2.6
    # with the wait).
    clock = FakeClock()
    chain = chain_ids(21, 15)
    chain_cloud = ChainCloud(cloud, [chain], takes=0.7, clock=clock)
    outcomes = delete(client, chain, clock=clock)
    assert {o.result for o in outcomes} == {'deleted'}
    clock.sleep(1)
    assert chain_cloud.backups.keys() == {chain[0]}  # the last, deleting
    assert len(vbs_calls(cloud)) <= 2.5 * len(chain)
    # And no slower for it: each level costs about what a delete takes.
    assert clock.now <= 1 + 20 * 1.5 * 0.7


def test_a_dependent_that_ends_in_error_deleting_fails_only_its_parent(
        client, cloud):
    chain = chain_ids(2, 13)
    chain_cloud = ChainCloud(cloud, [chain], linger={chain[1]: 1},
                             ends={chain[1]: 'error_deleting'})
    full, incremental = delete(client, chain)
    assert incremental.result == 'deleted'  # accepted: that much is known
    assert full.failed
    assert ('its incremental backups ended in status error_deleting: %s'
            % chain[1]) in full.reason
    assert chain_cloud.deletes.count(chain[0]) == 2


def test_a_parent_whose_dependent_parent_failed_is_not_sent_again(client,
                                                                  cloud):
    chain = chain_ids(3, 14)
    chain_cloud = _deleting_forever(cloud, chain)
    full, middle, newest = delete(client, chain, timeout=30)
    assert newest.result == 'deleted'
    assert 'deleted by this run were not gone within 30 s' in middle.reason
    assert full.failed
    assert ('incremental backups that depend on it were not deleted: %s'
            % chain[1]) in full.reason
    assert chain_cloud.deletes.count(chain[0]) == 1


def test_a_stop_in_the_chain_phase_sends_nothing_more(client, cloud):
    chain = chain_ids(3, 15)
    chain_cloud = ChainCloud(cloud, [chain], statuses={chain[2]: 'deleting'},
                             linger={chain[2]: 10 ** 6})
    clock = FakeClock()

    def sleep(seconds):
        bulk.run_context.stop()  # Ctrl-C while waiting for chain[2]
        clock.sleep(seconds)

    # One at a time: the middle's refusal lists the volume, and the full
    # backup, which reports a dependent, is held back unsent.
    bulk = bulk_delete(client, parallel=1, timeout=600, sleep=sleep,
                       clock=clock)
    middle, full = bulk.run(chain[1::-1])
    assert middle.failed
    assert 'Incremental backups exist' in middle.reason
    assert 'interrupted before it was sent again' in middle.reason
    assert (full.result, full.reason) == (
        'not-attempted', 'not attempted: the run was interrupted')
    assert chain_cloud.deletes == [chain[1], chain[1]]
    assert len(clock.sleeps) == 1


def test_a_dry_run_waits_for_a_dependent_deleted_elsewhere(client, cloud):
    chain = chain_ids(3, 16)
    ChainCloud(cloud, [chain], statuses={chain[2]: 'deleting'})
    middle, full = delete(client, chain[:2], dry_run=True)
    assert (full.backup_id, full.result) == (chain[0], 'would-delete')
    assert full.reason == ('after the 1 incremental backup(s) that depend on '
                           'it are gone')
    assert middle.result == 'would-delete'
    assert middle.reason == ('after the 1 incremental backup(s) that depend '
                             'on it are gone, 1 of them being deleted by '
                             'others')


def test_a_listed_parent_is_held_until_its_dependent_is_gone(client, cloud):
    # A prune's plan: the parent reports a dependent, so its DELETE waits
    # until that one is gone and is never refused.
    chain = chain_ids(2, 30)
    chain_cloud = ChainCloud(cloud, [chain], linger={chain[1]: 2})
    records = {b['id']: chain_cloud._record(b)
               for b in chain_cloud.backups.values()}
    outcomes = delete(client, chain, listed=records)
    assert [(o.backup_id, o.result) for o in outcomes] == [
        (chain[0], 'deleted'), (chain[1], 'deleted')]
    assert chain_cloud.deletes == [chain[1], chain[0]]  # each sent once


def test_a_held_parent_the_stop_kept_is_not_attempted(client, cloud):
    chain = chain_ids(2, 31)
    chain_cloud = ChainCloud(cloud, [chain], linger={chain[1]: 50})
    records = {b['id']: chain_cloud._record(b)
               for b in chain_cloud.backups.values()}
    clock = FakeClock()

    def sleep(seconds):  # the run is stopped while it waits
        bulk.run_context.stop()
        clock.sleep(seconds)
    bulk = bulk_delete(client, listed=records, sleep=sleep, clock=clock)
    full, incremental = bulk.run(chain)
    assert incremental.result == 'deleted'
    assert (full.result, full.reason) == (
        'not-attempted', 'not attempted: the run was interrupted')
    assert chain_cloud.deletes == [chain[1]]  # the parent never sent


@pytest.mark.parametrize('parallel', [1, None])
def test_a_prunes_parents_of_one_second_go_as_the_server_tells_unrefused(
        client, cloud, parallel):
    # Two incrementals made in the same second, each possibly the other's
    # parent: the list cannot tell which came first. Found by the prune
    # property (tests/cli/test_prune_chains.py): sent together, one was
    # refused. Once the newest is gone, their records tell.
    # The later of the two has the smaller ID: the order the planner
    # guesses is the wrong one.
    made = chain_ids(4, 32)
    chain = [made[0], made[2], made[1], made[3]]
    chain_cloud = ChainCloud(cloud, [chain])
    for backup_id in chain[1:3]:
        chain_cloud.backups[backup_id]['created_at'] = '2026-11-27T10:30:00'
    records = {b['id']: chain_cloud._record(b)
               for b in chain_cloud.backups.values()}
    outcomes = delete(client, chain, listed=records, parallel=parallel)
    assert {o.result for o in outcomes} == {'deleted'}
    assert chain_cloud.deletes == chain[::-1]  # each once, none refused
