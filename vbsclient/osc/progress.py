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

"""A progress line on stderr for long runs, only when stderr is a terminal.

Logs and pipes stay clean: when stderr is not a terminal nothing is written.
"""

import sys
import time


class Progress:
    # Short runs finish before the first line would be drawn.
    FIRST_AFTER = 1.0
    EVERY = 0.2

    def __init__(self, stream=None, clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.clock = clock
        self.started = clock()
        self.drawn_at = None
        self.shown = False
        self.done_count = 0
        self.failed_count = 0

    def done(self, outcome):
        self.done_count += 1
        self.failed_count += outcome.failed
        self._draw('%d done, %d failed' % (self.done_count, self.failed_count))

    def waiting(self, pending):
        self._draw('waiting for %d backup(s) to be gone' % pending,
                   force=True)

    def clear(self):
        """Take the line off the terminal, so that a message or row
        written next starts on a clean line; the next update redraws it.
        """
        if self.shown:
            self.stream.write('\r\033[K')
            self.stream.flush()
            self.shown = False

    def close(self):
        self.clear()

    def _draw(self, text, force=False):
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.FIRST_AFTER and not force:
            return
        if not force and self.drawn_at and now - self.drawn_at < self.EVERY:
            return
        self.drawn_at = now
        self.shown = True
        self.stream.write('\r\033[K' + text)
        self.stream.flush()
