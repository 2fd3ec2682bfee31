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

"""Waiting until each of a set of resources reaches a state.

Polls all pending resources, in parallel, then pauses with back-off,
until each is done, the deadline passes, or the stop event is set. What
"done" means is the caller's check; a later `create --wait` or
`restore --wait` reuses this as it is.
"""

import time

from vbsclient.api import concurrency

FIRST_DELAY = 1.0
MAX_DELAY = 10.0


def wait_for(items, check, timeout, parallel, stop, sleep=None,
             clock=time.monotonic, on_round=None, first_delay=FIRST_DELAY):
    """Return the items still not done when the waiting ended.

    check(item) -> True once the item is done (whatever its end); it must
    not raise. on_round(pending) is called before each round of polls.
    sleep(seconds) pauses (default: the stop event's wait, so a stop ends
    a pause at once). The pauses start at first_delay and double, up to
    MAX_DELAY.
    """
    sleep = sleep or stop.wait
    pending = list(items)
    deadline = clock() + timeout
    delay = first_delay
    while pending:
        if on_round:
            on_round(pending)
        finished = concurrency.ordered_map(
            check, pending, parallel, stop=stop, skipped=lambda item: False)
        pending = [item for item, done in zip(pending, list(finished))
                   if not done]
        remaining = deadline - clock()
        if not pending or remaining <= 0 or stop.is_set():
            break
        sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_DELAY)
    return pending
