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

"""Signals that stop a run: the first SIGINT, SIGTERM or SIGHUP stops
sending and lets the run report; a second one ends the process at once.
The exit status is then 128 + the signal's number (130, 143, 129), as a
shell reports a process the signal ended.
"""

import contextlib
import os
import signal
import sys
import threading
import time

# A repeat of the first signal this soon is a duplicate delivery.
SAME_SIGNAL_WINDOW = 1.0
STOP_SIGNALS = tuple(getattr(signal, name) for name in
                     ('SIGINT', 'SIGTERM', 'SIGHUP') if hasattr(signal, name))


class SignalStop:
    """Stops a run (vbsclient.api.run.Run) on the first signal.

    The same signal again within SAME_SIGNAL_WINDOW seconds is the same
    stop delivered twice, not a second one: GNU timeout, and `kill` of a
    process group, send it to the process and its group.
    """

    def __init__(self, run):
        self.run = run
        self.signal = None  # the first signal's number, once one came
        self._at = None

    @property
    def exit_status(self):
        """128 + the signal's number (Ctrl-C's if none came)."""
        return 128 + (self.signal or signal.SIGINT)

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread
            return
        previous = {signum: signal.signal(signum, self._on_signal)
                    for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_signal(self, signum, frame):
        name = signal.Signals(signum).name
        if self.signal is not None:
            if signum == self.signal and \
                    time.monotonic() - self._at < SAME_SIGNAL_WINDOW:
                return
            sys.stderr.write('\n%s again: aborting now\n' % name)
            sys.stderr.flush()
            os._exit(128 + self.signal)
        self.signal, self._at = signum, time.monotonic()
        self.run.progress.clear()
        # A repeat within SAME_SIGNAL_WINDOW is ignored: say so.
        interrupt = signum == signal.SIGINT
        sys.stderr.write('\n%s: sending nothing more, finishing the '
                         'requests in flight (%s again after a second to '
                         'abort)\n' % ('Interrupted' if interrupt else name,
                                       'Ctrl-C' if interrupt else name))
        # In a thread: the stop takes locks this thread may hold.
        threading.Thread(target=self.run.stop, daemon=True).start()
