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

"""The measurement of each number in flight's rate (vbsclient.api.rounds).
"""

from vbsclient.api.rounds import Rounds


def test_an_answers_rate_is_what_was_in_flight_over_its_time():
    rounds = Rounds()
    for number in range(1, 5):
        rounds.answered(1.0, rounds.ticket(0.0), 0.5, in_flight=number)
    # 1, 2, 3 and 4 in flight over 0.5 s each: 2, 4, 6, 8 a second.
    assert rounds.end(1.0) == 5.0
    # Four answers within the round's second: its burst rate, and what
    # got through.
    assert rounds.burst_rate == rounds.got_through == 4.0


def test_a_round_measures_only_requests_sent_since_it_began():
    rounds = Rounds()
    early = rounds.ticket(0.0)
    rounds.answered(0.1, rounds.ticket(0.0), 0.0, 1)
    rounds.end(0.1)
    late = rounds.ticket(0.2)
    rounds.answered(0.5, early, 0.0, 32)  # sent under the number before
    assert rounds.measured == 0
    rounds.answered(0.6, late, 0.2, 2)
    assert rounds.measured == 1 and rounds.end(0.6) == 5.0


def test_a_numbers_rate_is_the_median_of_its_latest_rounds():
    rounds = Rounds()
    assert rounds.rate_at(4) is None
    for rate in (100, 1, 50, 60, 70, 80):  # the 100 is forgotten
        rounds.remember(4, rate)
    assert rounds.rate_at(4) == 60
    rounds.remember(8, 68)
    rounds.remember(16, 75)
    # 4 (60) is beaten by 15 % by 16 (75); 8 (68) is not.
    assert rounds.fewest_for_the_best() == 8
    rounds.forget()
    assert rounds.rate_at(4) is None


def test_a_round_is_flat_where_the_server_served_its_requests_at_once():
    def burst(latencies):
        rounds = Rounds()
        tickets = [rounds.ticket(0.0) for _ in latencies]
        for ticket, latency in sorted(zip(tickets, latencies),
                                      key=lambda pair: pair[1]):
            rounds.answered(latency, ticket, 0.0, len(latencies))
        rounds.end(max(latencies))
        return rounds.flat
    # Behind 50 ms, 32 sent at once: all answered within 50 to 70 ms.
    assert burst([0.05 + 0.02 * k / 31 for k in range(32)])
    # One at a time: the k-th waits for those before it (median 16 x).
    assert not burst([0.03 * k for k in range(1, 33)])
    # Four at a time (gunicorn's threads): in waves of four.
    assert not burst([0.03 * (k // 4 + 1) for k in range(32)])
