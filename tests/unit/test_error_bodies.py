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

"""The message and code of every error body style, within a bounded read."""

import json

import pytest

from vbsclient.api import error_bodies
from vbsclient.api import errors


def body(document):
    return json.dumps(document).encode()


@pytest.mark.parametrize('document, expected', [
    # The API gateway's style.
    ({'error_code': 'APIGW.0308', 'error_msg': 'The request is throttled.'},
     ('The request is throttled.', 'APIGW.0308')),
    # The spec's flat style; an integer code only repeats the status.
    ({'message': 'Backup is busy.', 'code': 409}, ('Backup is busy.', None)),
    # VBS's wrapper, with its own code.
    ({'error': {'message': 'Used by an image.', 'code': 'VolumeBackup.0113'}},
     ('Used by an image.', 'VolumeBackup.0113')),
    # Cinder's fault wrapper.
    ({'itemNotFound': {'message': 'Backup x could not be found.',
                       'code': 404}},
     ('Backup x could not be found.', None)),
    # A message that is not text, and a body with no message at all.
    ({'message': ['not', 'text']}, (None, None)),
    ({'error': {'message': {'nested': 1}}}, (None, None)),
    ({'backups': []}, (None, None)),
    # An empty code is no code.
    ({'error_code': '', 'error_msg': 'Odd.'}, ('Odd.', None)),
])
def test_each_json_style_gives_its_message_and_string_code(document,
                                                           expected):
    assert error_bodies.parse_body(body(document)) == expected


@pytest.mark.parametrize('raw', [None, b'', b'  \n ', b'["oops"]', b'42',
                                 b'null'])
def test_no_body_or_json_that_is_not_an_object_says_nothing(raw):
    assert error_bodies.parse_body(raw) == (None, None)


def test_an_html_page_gives_its_title_unescaped():
    page = (b'<html><head><TITLE>502 Bad &amp; Gateway</TITLE></head>'
            b'<body><h1>ignored</h1></body></html>')
    assert error_bodies.parse_body(page) == ('502 Bad & Gateway', None)


def test_html_without_a_title_gives_its_text_without_tags():
    message, code = error_bodies.parse_body(
        b'<p>Service</p><b>down</b> &lt;now&gt;')
    assert code is None
    assert message.split() == ['Service', 'down', '<now>']


def test_plain_text_and_bytes_that_are_not_utf8_are_read_as_text():
    assert error_bodies.parse_body(b'Internal error') == \
        ('Internal error', None)
    message, _ = error_bodies.parse_body(b'caf\xe9 failed')
    assert message == 'caf\ufffd failed'


def test_only_a_bounded_prefix_of_an_error_body_is_parsed():
    late = b' ' * error_bodies.MAX_ERROR_BODY + b'<title>late</title>'
    message, _ = error_bodies.parse_body(late)
    assert not message or 'late' not in message
    message, _ = error_bodies.parse_body(b'[' * 100000)
    assert message  # a readable line, not a RecursionError


def test_hostile_html_pages_become_their_capped_text():
    # Each of these made the old regular expressions quadratic (that they
    # are linear now is measured by benchmarks/parsing.py): unclosed
    # tags are no tags, and the page's own text is the message, capped.
    for page in (b'<title' * 10000, b'>' + b'<a' * 20000):
        message, code = error_bodies.parse_body(page)
        assert code is None
        assert page.decode().startswith(message)
        line = errors.one_line(message)
        assert len(line) == errors.MAX_MESSAGE and line.endswith('...')
