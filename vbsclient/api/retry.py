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

"""How long to wait before a request is tried again: back-off with
jitter, and the server's Retry-After.

keystoneauth has a retry loop (connect_retries, status_code_retries); it
is not used, for three reasons that matter to a bulk delete: its back-off
has no jitter (hundreds of parallel requests retry in lockstep against a
struggling API), it sleeps for whatever Retry-After says (unbounded), and
it hides whether a failed attempt may have reached the server, which
decides what a later 404 means for a DELETE. The loop itself is the
pipeline's (vbsclient.api.pipeline), the one every request goes through.
"""

import collections
import email.utils
import logging
import random
import re
import threading
import time

LOG = logging.getLogger(__name__)

DEFAULT_RETRIES = 4
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
MAX_RETRY_AFTER = 60.0
# A 401 is sent again (with a renewed token) at most this often.
MAX_UNAUTHORIZED = 3
# Whether the server works, from the run's latest attempts: while fewer
# than a quarter of them were faults, a fault is passing, and its retry
# waits at most RESUME_AFTER (jittered), not a back-off.
RECENT = 20
WORKING_FAULTS = 0.25
RESUME_AFTER = 0.05

# ASCII digits only: str.isdigit() also takes '²', which float() refuses.
_SECONDS = re.compile(r'[0-9]+\Z')


def backoff(number, jitter=random.uniform):
    """The pause before retry number `number` (0 for the first): it
    doubles each time, up to MAX_DELAY, and is jittered down to half so
    that parallel requests do not retry in lockstep.
    """
    ceiling = min(MAX_DELAY, FIRST_DELAY * 2 ** min(number, 32))
    return jitter(ceiling / 2, ceiling)


def retry_after_seconds(value, now=time.time, cap=False):
    """Retry-After as seconds (with cap, at most MAX_RETRY_AFTER): ASCII
    digits or an HTTP date. Anything else, None: a header that is neither
    is ignored, never an error.
    """
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if _SECONDS.match(value):
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = max(0.0, when.timestamp() - now())
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
    return min(seconds, MAX_RETRY_AFTER) if cap else seconds


class Pauses:
    """The waits between the attempts of a run's requests.

    A fault's back-off is for a server that is not working (an outage,
    a hung endpoint): while most of the run's latest attempts got
    answers, a fault is a passing one, and its retry waits at most
    RESUME_AFTER. A full back-off there held the backup's worker for
    0.25 to 2 s while the server was fine; behind 50 ms, 10 % of random
    503s cost a run 1.7 times its clean time, and a backup that met
    three in a row held up the ordered window of a run for 1.5 s with
    the server idle. A back-off is cut short once another request gets
    an answer: the server works again (after an outage, every request
    would otherwise sleep out its back-off with the server idle).
    Throttling's pause is the server's to set, and runs its course.
    Every pause ends at the stop.
    """

    def __init__(self, stopping, jitter=random.uniform, clock=time.monotonic):
        self._stopping = stopping
        self._jitter = jitter
        self._clock = clock
        self._news = threading.Condition()
        self._answers = 0  # HTTP answers other than faults, so far
        self._recent = collections.deque(maxlen=RECENT)  # True: a fault

    def attempt_ended(self, answered, fault):
        """An attempt got an HTTP answer (answered) or not; a fault."""
        with self._news:
            self._recent.append(fault)
            if answered and not fault:
                self._answers += 1
                self._news.notify_all()

    @property
    def server_works(self):
        with self._news:
            recent = list(self._recent)
        return bool(recent) and sum(recent) < WORKING_FAULTS * len(recent)

    def delay(self, number, retry_after=None, reason='', waited=0.0):
        """Seconds before retry `number` (0: the first): what the server
        said, or a back-off, less what the attempt `waited` for an answer
        it never got: a back-off spaces attempts from their start, and a
        hung server's read timeouts space them already (with
        --read-timeout 1 and 4 retries, a hung server took 15 s, 7.5 of
        them pauses at most).
        """
        seconds = backoff(number, self._jitter) if retry_after is None \
            else retry_after
        seconds = max(0.0, seconds - waited)
        LOG.debug('retry %d of a VBS request in %.2f s at most (%s)',
                  number + 1, seconds, reason)
        return seconds

    def wait(self, seconds, deadline, fault):
        """Wait before the next attempt; False if the run stops, or the
        pause would end past the deadline.
        """
        start = self._clock()
        if start + seconds >= deadline:
            return False
        if fault and self.server_works:
            seconds = min(seconds, self._jitter(0, RESUME_AFTER))
        end = start + seconds
        with self._news:
            seen = self._answers
            while not self._stopping.is_set():
                now = self._clock()
                if fault and self._answers != seen:
                    end = min(end, now + self._jitter(0, FIRST_DELAY / 2))
                    seen = self._answers
                if now >= end:
                    return True
                self._news.wait(end - now)
        return False

    def wake(self):
        with self._news:
            self._news.notify_all()
