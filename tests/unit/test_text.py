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

"""Server text made safe to show: escaped, capped, without credentials."""

from vbsclient.api import text


def test_controls_are_escaped_visibly_and_plain_text_is_untouched():
    assert text.escape('nightly-2026/11 ok') == 'nightly-2026/11 ok'
    assert text.escape('Zürich ☃') == 'Zürich ☃'
    assert text.escape('\x1b[2J\x07\x00\x08\r\n\t') == \
        '\\x1b[2J\\x07\\x00\\x08\\r\\n\\t'
    assert text.escape('\x9b31m') == '\\x9b31m'  # a C1 control
    assert text.escape('a\u202eb\u2028c') == 'a\\u202eb\\u2028c'
    assert text.escape('caf\udce9') == 'caf\\xe9'  # a byte, not UTF-8
    assert text.escape(None) is None


def test_cap_says_how_long_the_text_was():
    assert text.cap('short') == 'short'
    capped = text.cap('y' * 1000000)
    assert len(capped) < 250 and capped.endswith('(1000000 characters)')


def test_quoted_is_capped_and_escaped():
    assert text.quoted('\x1b' * 500).count('\\x1b') == text.MAX_ECHO


def test_credentials_are_hidden_in_urls():
    assert text.without_credentials('https://u:p@vbs.test/v3') == \
        'https://***@vbs.test/v3'
    assert text.without_credentials('https://vbs.test/v3') == \
        'https://vbs.test/v3'
