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

"""Text that came from elsewhere (a server, a user's input), made safe to
show: control characters escaped, length capped, credentials hidden.

A server decides what its error messages, request IDs, and backup names
and IDs contain. Written raw to a terminal, an ESC sequence can set the
title, clear the screen or paint a fake "all deleted"; a newline splits
one value into two lines of `-f value` output that a runbook pipes on.
"""

import unicodedata
import urllib.parse

# Control characters (C0, DEL, C1), invisible format characters (bidi
# overrides among them), line and paragraph separators, and the lone
# surrogates that stand for bytes that were not UTF-8.
_UNSAFE_CATEGORIES = frozenset(('Cc', 'Cf', 'Zl', 'Zp', 'Cs'))
_NAMED = {'\n': '\\n', '\r': '\\r', '\t': '\\t'}

MAX_ECHO = 200  # characters of someone else's text repeated in a message


def _unsafe(char):
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def escape(text):
    """text with each unsafe character written as a visible escape."""
    if text is None:
        return None
    text = str(text)
    if text.isprintable() and text.isascii():
        return text  # the common case, without a look at each character
    return ''.join(_escaped(char) if _unsafe(char) else char
                   for char in text)


def _escaped(char):
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xdc80 <= code <= 0xdcff:  # a byte that was not UTF-8
        return '\\x%02x' % (code - 0xdc00)
    return '\\x%02x' % code if code <= 0xff else '\\u%04x' % code


def cap(text, limit=MAX_ECHO):
    """text cut to `limit` characters, saying how long it really was."""
    text = str(text)
    if len(text) <= limit:
        return text
    return '%s... (%d characters)' % (text[:limit], len(text))


def quoted(text, limit=MAX_ECHO):
    """Someone else's text, capped and escaped, in quotes: for messages."""
    return "'%s'" % escape(cap(text, limit))


def without_credentials(url):
    """url with any "user:password@" replaced by "***@"."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return '<an invalid URL>'
    if '@' not in parts.netloc:
        return url
    host = parts.netloc.rsplit('@', 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc='***@' + host))
