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

import email.utils
import random
import re
import time

DEFAULT_RETRIES = 4
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
MAX_RETRY_AFTER = 60.0
# A 401 is sent again (with a renewed token) at most this often.
MAX_UNAUTHORIZED = 3

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
