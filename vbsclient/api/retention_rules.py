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

"""A prune's rules, read: counts, durations (`--keep-within 1y6m`), the
Rules they make, and the `created_at` times of the backups they are
applied to (vbsclient.api.retention applies them).
"""

import calendar
import dataclasses
import datetime
import re

# A count without a bound (restic's `unlimited`, or -1).
UNLIMITED = -1
# The count rules, in the order in which reasons name them (`within` next,
# then 'newest', then 'needed by').
COUNTS = ('last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly')

_UTC = datetime.timezone.utc
_UNITS = 'hdwmy'
_PART = re.compile(r'([0-9]+)([a-zA-Z])')
_DURATION = re.compile(r'(?:[0-9]+[a-zA-Z])+')
_EXAMPLES = 'units h, d, w, m (months), y, as in 36h, 2w3d or 1y6m'
_ISO = re.compile(
    r'([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})'
    r'(?::([0-9]{2})(?:[.,]([0-9]+))?)?'
    r'(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?', re.I)


@dataclasses.dataclass(frozen=True)
class Duration:
    """A span of calendar time: months (a year is 12), days (a week is 7)
    and hours. `text` is how it was written, for reasons and messages; it
    takes no part in comparisons.

    duration.before(moment) is the moment that much earlier: months by
    the calendar, the day clamped to the last day of the month reached
    (March 31 - 1m is February 28 or 29), then days and hours as elapsed
    time.
    """
    months: int = 0
    days: int = 0
    hours: int = 0
    text: str = dataclasses.field(default='', compare=False)

    def __str__(self):
        parts = [('%d%s' % (amount, unit)) for amount, unit in (
            (self.months, 'm'), (self.days, 'd'), (self.hours, 'h'))
            if amount]
        return self.text or ''.join(parts) or '0h'

    def __bool__(self):
        return bool(self.months or self.days or self.hours)

    def before(self, moment):
        """The moment this duration before `moment` (a datetime); the
        earliest datetime if that is before year 1.
        """
        earliest = datetime.datetime.min.replace(tzinfo=moment.tzinfo)
        year, month = divmod(moment.year * 12 + moment.month - 1
                             - self.months, 12)
        if year < datetime.MINYEAR:
            return earliest
        month += 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        try:
            return (moment.replace(year=year, month=month, day=day)
                    - datetime.timedelta(days=self.days, hours=self.hours))
        except OverflowError:
            return earliest


def parse_duration(text):
    """A Duration from '30d', '36h', '2w3d', '1y6m' (units h, d, w, m for
    calendar months, y for calendar years; each unit at most once).

    Raises ValueError, with a one-line message, for anything else.
    """
    if not isinstance(text, str):
        raise ValueError('invalid duration %r: expected text with %s'
                         % (text, _EXAMPLES))
    written = text.strip()
    if not _DURATION.fullmatch(written):
        raise ValueError('invalid duration %r: expected numbers with %s'
                         % (text, _EXAMPLES))
    amounts = {}
    for number, unit in _PART.findall(written):
        if unit not in _UNITS:
            raise ValueError('invalid duration %r: unknown unit %r; use %s'
                             % (text, unit, _EXAMPLES))
        if unit in amounts:
            raise ValueError('invalid duration %r: unit %r given twice'
                             % (text, unit))
        amounts[unit] = int(number)
    get = amounts.get
    return Duration(months=get('y', 0) * 12 + get('m', 0),
                    days=get('w', 0) * 7 + get('d', 0),
                    hours=get('h', 0), text=written)


@dataclasses.dataclass(frozen=True)
class Rules:
    """What a prune keeps: counts (an int, UNLIMITED, or None when not
    given) and `within` (a Duration, or None). A count of 0 keeps
    nothing, as in restic.
    """
    last: int = None
    hourly: int = None
    daily: int = None
    weekly: int = None
    monthly: int = None
    yearly: int = None
    within: Duration = None

    def __post_init__(self):
        for name in COUNTS:
            count = getattr(self, name)
            if count is not None and (isinstance(count, bool)
                                      or not isinstance(count, int)
                                      or count < UNLIMITED):
                raise ValueError('keep-%s must be a whole number >= 0 or '
                                 'unlimited, not %r' % (name, count))
        if self.within is not None and not isinstance(self.within,
                                                      Duration):
            raise ValueError('keep-within must be a Duration, not %r'
                             % (self.within,))

    def any(self):
        """Whether any rule keeps anything (a count above 0, or a
        duration that is not zero).
        """
        return (any(getattr(self, name) for name in COUNTS)
                or bool(self.within))


def parse_count(text):
    """A rule's count: a whole number >= 0, or 'unlimited' (or -1, as
    restic takes it) for UNLIMITED. Raises ValueError otherwise.
    """
    written = str(text).strip()
    if written.lower() in ('unlimited', str(UNLIMITED)):
        return UNLIMITED
    if not written.isascii() or not written.isdigit():
        raise ValueError('%r is not a whole number >= 0 or unlimited'
                         % (text,))
    return int(written)


class OutOfRange(ValueError):
    """A time that is read but cannot be placed in UTC."""


def parse_time(value):
    """A `created_at` as an aware UTC datetime: ISO 8601 as the API sends
    it ('2026-11-27T10:00:01.000000', with 'Z' or an offset or neither,
    naive meaning UTC), or a datetime. Raises ValueError otherwise, and
    for a time that cannot be placed in UTC (0001-01-01T00:30+01:00).
    """
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        found = _ISO.fullmatch(str(value).strip())
        if not found:
            raise ValueError('not an ISO 8601 time: %r' % (value,))
        (year, month, day, hour, minute, second, fraction,
         offset) = found.groups()
        moment = datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute),
            int(second or 0), int((fraction or '0')[:6].ljust(6, '0')),
            tzinfo=_zone(offset))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=_UTC)
    try:
        return moment.astimezone(_UTC)
    except OverflowError:
        raise OutOfRange('out of range in UTC: %r' % (value,)) from None


def _zone(offset):
    if not offset or offset.upper() == 'Z':
        return _UTC
    digits = offset[1:].replace(':', '')
    minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
    return datetime.timezone(datetime.timedelta(
        minutes=-minutes if offset[0] == '-' else minutes))
