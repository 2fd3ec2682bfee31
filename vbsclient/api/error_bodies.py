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

"""The message and VBS error code of a server's error body, whatever its
style: the API gateway's, the spec's flat one, VBS's and Cinder's
wrappers, an HTML page from a proxy, or plain text.

Only the first MAX_ERROR_BODY bytes are ever looked at (or read: see
vbsclient.api.transport), and every step is linear in them: a hostile
body costs no more than a kind one of the same length.
"""

import html
import json

MAX_ERROR_BODY = 64 * 1024


def parse_body(body):
    """Return (message, vbs_error_code) from any known error body style.

    body: bytes, of which only the first MAX_ERROR_BODY are looked at.
    """
    text = (body or b'')[:MAX_ERROR_BODY].decode('utf-8', 'replace')
    if not text.strip():
        return None, None
    try:
        document = json.loads(text)
    except RecursionError:
        return 'an error body nested too deeply to read', None
    except ValueError:
        return _message_from_text(text), None
    if not isinstance(document, dict):
        return None, None
    message, code = _message_from_json(document)
    return (message if isinstance(message, str) else None), code


def _message_from_json(body):
    # API gateway style: {"error_code": "...", "error_msg": "..."}
    if 'error_msg' in body or 'error_code' in body:
        return body.get('error_msg'), _code(body.get('error_code'))
    # The spec's own flat style: {"message": "...", "code": ...}
    if isinstance(body.get('message'), str):
        return body['message'], _code(body.get('code'))
    # VBS style {"error": {...}} and Cinder style {"<faultName>": {...}}:
    # a single wrapper object holding the message.
    for wrapper in body.values():
        if isinstance(wrapper, dict) and 'message' in wrapper:
            return wrapper.get('message'), _code(wrapper.get('code'))
    return None, None


def _code(value):
    # Cinder repeats the HTTP status as an integer "code"; only string codes
    # such as "VolumeBackup.0113" tell the user something new.
    return value if isinstance(value, str) and value else None


def _message_from_text(text):
    """The <title> of an HTML page, or the text with its tags removed.

    Written with str.find, not regular expressions: each step moves on,
    so the work is linear whatever the page holds.
    """
    lower = text.lower()
    start = lower.find('<title')
    if start >= 0:
        opened = lower.find('>', start)
        closed = lower.find('</title', opened) if opened >= 0 else -1
        if closed >= 0:
            return html.unescape(text[opened + 1:closed])
    return html.unescape(_without_tags(text))


def _without_tags(text):
    kept, position = [], 0
    while True:
        start = text.find('<', position)
        if start < 0:
            break
        end = text.find('>', start)
        if end < 0:
            break  # no tag closes: the rest is text
        kept.append(text[position:start])
        kept.append(' ')
        position = end + 1
    kept.append(text[position:])
    return ''.join(kept)
