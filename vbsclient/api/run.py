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

"""A run: one command (or one library caller's batch), created once, at
its entry point, and handed to whatever works for it.

It holds what every part of the run shares: the pipeline (the stop, the
limiter, the breaker, the tokens: vbsclient.api.pipeline), a client bound
to it, the clock and the deadlines, the threads' number and the progress
line. A list, a show, a lookup, a prune's listing, every delete and every
wait go through it; so a stop or a deadline reaches all of them.
"""

import time

from vbsclient.api import limiter as limiters
from vbsclient.api import pipeline as pipelines
from vbsclient.api import waiter

# Seconds all waiting of a run shares (--wait, a parent's dependents).
DEFAULT_TIMEOUT = 600


class Run:
    """client: a vbsclient.api.client.BackupClient (its settings).

    parallel: requests in flight, fixed; None adapts it to the server's
    answers (up to limiter.DEFAULT_MAX) if `adaptive`, else leaves them
    to the threads (a list, a show). timeout: seconds for all waiting
    together; interval: seconds between a wait's rounds. sleep(seconds)
    pauses a wait (default: until the stop); clock() is the waits' time.
    """

    def __init__(self, client, parallel=None, adaptive=True,
                 timeout=DEFAULT_TIMEOUT, interval=waiter.INTERVAL,
                 progress=None, sleep=None, clock=time.monotonic):
        if parallel:
            limit = limiters.FixedLimit(parallel)
        else:
            limit = limiters.AdaptiveLimit() if adaptive else None
        self.pipeline = pipelines.Pipeline(limit)
        self.client = client.bound(pipeline=self.pipeline)
        # Threads: as many as requests may be in flight.
        self.parallel = parallel or limiters.DEFAULT_MAX
        self.timeout = timeout
        self.interval = interval
        # What the run's lists showed, for its waits (waiter.Sightings).
        self.sightings = waiter.Sightings()
        self.progress = progress or NoProgress()
        self.clock = clock
        self._sleep = sleep
        self._wait_deadline = None

    @property
    def stopping(self):
        """The stop, as an event: set once nothing more may be sent."""
        return self.pipeline.stopping

    @property
    def stopped(self):
        return self.pipeline.stopped

    def stop(self):
        """Send nothing more; every wait ends. Requests in flight finish
        (or time out). From a signal handler, only through a thread: it
        takes locks.
        """
        self.pipeline.stop()

    def for_backup(self):
        """The client for one backup: its own time budget (lookup,
        delete, retries, and the GETs that tell what a cut-off attempt
        did), through the run's pipeline.
        """
        return self.client.bound(
            deadline=self.pipeline.now() + self.client.budget)

    def wait_deadline(self):
        """When all waiting ends: `timeout` after the first wait began."""
        if self._wait_deadline is None:
            self._wait_deadline = self.clock() + self.timeout
        return self._wait_deadline

    def sleep(self, seconds):
        """Pause a wait; a stop ends the pause at once."""
        (self._sleep or self.stopping.wait)(seconds)


class NoProgress:
    """A run without a progress line."""

    def done(self, outcome):
        pass

    def waiting(self, pending):
        pass

    def clear(self):
        pass

    def close(self):
        pass
