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

"""A prune's rules, read (vbsclient.api.retention_rules): durations and
their calendar arithmetic, counts, Rules, and the times of backups.
"""

import datetime

import pytest

from vbsclient.api import retention_rules

UTC = datetime.timezone.utc


@pytest.mark.parametrize('text,months,days,hours', [
    ('36h', 0, 0, 36), ('30d', 0, 30, 0), ('2w3d', 0, 17, 0),
    ('1m', 1, 0, 0), ('1y6m', 18, 0, 0), ('6m1y', 18, 0, 0),
    ('1y2m3w4d5h', 14, 25, 5), ('0d', 0, 0, 0), (' 7d ', 0, 7, 0),
    ('007d', 0, 7, 0),
])
def test_parse_duration(text, months, days, hours):
    duration = retention_rules.parse_duration(text)
    assert (duration.months, duration.days, duration.hours) == (
        months, days, hours)
    assert str(duration) == text.strip()


@pytest.mark.parametrize('text', [
    '', ' ', '7', 'd', '1x', '5s', '1D', '1M', '-1d', '+1d', '1.5d',
    '1 d', '1d 2h', '1d2d', '1y1y', 'd1', '1d,2h', '１d', 'month', None,
    30,
])
def test_parse_duration_refuses_anything_else(text):
    with pytest.raises(ValueError) as caught:
        retention_rules.parse_duration(text)
    message = str(caught.value)
    assert message.startswith('invalid duration %r' % (text,))
    assert '\n' not in message


@pytest.mark.parametrize('moment,text,earlier', [
    ('2026-03-31T12:00:00', '1m', '2026-02-28T12:00:00'),
    ('2028-03-31T12:00:00', '1m', '2028-02-29T12:00:00'),
    ('2028-02-29T06:00:00', '1y', '2027-02-28T06:00:00'),
    ('2028-02-29T06:00:00', '4y', '2024-02-29T06:00:00'),
    ('2026-01-31T00:00:00', '2m', '2025-11-30T00:00:00'),
    ('2026-05-31T00:00:00', '1m1d', '2026-04-29T00:00:00'),
    ('2026-01-01T05:00:00', '1w6h', '2025-12-24T23:00:00'),
    ('2026-08-31T00:00:00', '1y6m', '2025-02-28T00:00:00'),
    ('2026-01-01T00:00:00', '0h', '2026-01-01T00:00:00'),
])
def test_a_duration_subtracts_itself_by_the_calendar(
        moment, text, earlier):
    moment = datetime.datetime.fromisoformat(moment).replace(tzinfo=UTC)
    duration = retention_rules.parse_duration(text)
    expected = datetime.datetime.fromisoformat(earlier).replace(tzinfo=UTC)
    assert duration.before(moment) == expected


def test_a_duration_beyond_the_calendar_reaches_its_start():
    moment = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    for text in ('3000y', '999999999999d', '99999999999999h'):
        assert retention_rules.parse_duration(text).before(moment) == (
            datetime.datetime.min.replace(tzinfo=UTC))


def test_durations_compare_by_length_not_by_text():
    parse = retention_rules.parse_duration
    assert parse('2w') == parse('14d')
    assert parse('1y') == parse('12m')
    assert parse('24h') != parse('1d')


def test_rules_any():
    assert not retention_rules.Rules().any()
    assert not retention_rules.Rules(last=0, daily=0).any()
    parse = retention_rules.parse_duration
    assert not retention_rules.Rules(within=parse('0d')).any()
    assert retention_rules.Rules(yearly=1).any()
    assert retention_rules.Rules(within=parse('1h')).any()


@pytest.mark.parametrize('arguments', [
    {'last': -2}, {'daily': 1.5}, {'weekly': '3'}, {'monthly': True},
    {'within': '30d'},
])
def test_rules_refuse_what_is_not_a_count_or_a_duration(arguments):
    with pytest.raises(ValueError):
        retention_rules.Rules(**arguments)


@pytest.mark.parametrize('text,expected', [
    ('2026-11-27T10:00:01.000000', (2026, 11, 27, 10, 0, 1, 0)),
    ('2026-11-27T10:00:01Z', (2026, 11, 27, 10, 0, 1, 0)),
    ('2026-11-27T10:00:01.123z', (2026, 11, 27, 10, 0, 1, 123000)),
    ('2026-11-27T10:00:01.1234567+00:00', (2026, 11, 27, 10, 0, 1, 123456)),
    ('2026-11-27T00:30:00+01:00', (2026, 11, 26, 23, 30, 0, 0)),
    ('2026-11-27T10:00-0530', (2026, 11, 27, 15, 30, 0, 0)),
    ('2026-11-27 10:00:01', (2026, 11, 27, 10, 0, 1, 0)),
])
def test_parse_time(text, expected):
    assert retention_rules.parse_time(text) == datetime.datetime(
        *expected, tzinfo=UTC)


@pytest.mark.parametrize('text', ['', 'yesterday', '2026-11-27',
                                  '2026-13-01T00:00:00', None])
def test_parse_time_refuses_anything_else(text):
    with pytest.raises(ValueError):
        retention_rules.parse_time(text)
