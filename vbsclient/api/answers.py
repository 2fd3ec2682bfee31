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

"""What an answer of the backup API means: the error it stands for (an
error status, a redirect, an unexpected success status; a 404 probed for
whether the endpoint is the API's), and its JSON body's records, each
checked to be the API's own.
"""

import json
import threading
import urllib.parse

from vbsclient.api import errors
from vbsclient.api import text as safe_text
from vbsclient.api import transport

# What each call answers when it succeeds (the spec's "normal" status).
SUCCESS = {'GET': 200, 'DELETE': 202, 'POST': 202}


def error_of(answer):
    """None for the API's success status; else the error it stands for."""
    if answer.status >= 400:
        return errors.ApiError.from_answer(answer)
    if 300 <= answer.status < 400:
        return _redirect_error(answer)
    method = answer.method
    if answer.status != SUCCESS.get(method, 200):
        return errors.UnexpectedAnswer(
            answer.status,
            'The endpoint answered %s with HTTP %d, not the backup API\'s '
            '%d' % (method, answer.status, SUCCESS.get(method, 200)),
            request_id=answer.request_id,
            hint='the VBS endpoint is probably wrong')
    return None


def _redirect_error(answer):
    location = answer.headers.get('location')
    if location:
        try:
            target = urllib.parse.urljoin(answer.url, location)
            host = urllib.parse.urlsplit(target).netloc.rsplit('@', 1)[-1]
        except ValueError:
            host = location
        where = 'a redirect to host %s' % safe_text.quoted(
            host or location, 100)
    else:
        where = 'a redirect without a location'
    return errors.UnexpectedAnswer(
        answer.status,
        'The endpoint answered with %s, which was not followed' % where,
        request_id=answer.request_id,
        hint='the VBS endpoint is probably wrong')


def field(answer, document, key, kind):
    """document[key] of a JSON answer, which must be a `kind`."""
    value = document.get(key) if isinstance(document, dict) else None
    if not isinstance(value, kind):
        raise malformed(answer, 'no %r %s in it' % (key, kind.__name__))
    return value


def records(answer, document, key):
    """The list of records of a list answer; each has a string ID."""
    found = field(answer, document, key, list)
    for record in found:
        if not isinstance(record, dict) or \
                not isinstance(record.get('id'), str):
            raise malformed(answer, 'a %s without an ID in it' % key[:-1])
    return found


def document(answer):
    """The answer's body as JSON; an answer that is not is malformed."""
    try:
        return json.loads(answer.body.decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise malformed(answer, 'not JSON: %s' % safe_text.cap(
            errors.one_line(exc), 80)) from None


def malformed(answer, what):
    """The error of an answer that is not the API's: `what` says why."""
    kind = answer.content_type or 'no content type'
    if answer.truncated:
        what = 'longer than %d bytes' % transport.MAX_BODY
    return errors.UnexpectedAnswer(
        answer.status,
        'The answer to %s is not the backup API\'s (%s, %s)'
        % (answer.method, safe_text.cap(kind, 60), what),
        request_id=answer.request_id,
        hint='the VBS endpoint is probably wrong')


def explain_404(error, request, facts):
    """A 404 whose body is not the API's own "not found": NotFound if the
    endpoint serves backups, else an error that says it looks wrong.

    request(method, path, params=...): a request of the run (its limits,
    stop and deadline); facts: what the run learnt of its endpoint, so
    that it asks once a run, never for the client's lifetime.
    """
    if _serves_backups(request, facts):
        return error.with_hint(None, errors.NotFound)
    return error.with_hint(
        'the VBS endpoint does not look like the backup API (a backup list '
        'there fails too): check the VBS endpoint')


def _serves_backups(request, facts):
    """List one backup; True if the answer is the API's own list. One
    probe at a time: the backups that meet a 404 together wait for it.
    """
    with facts.setdefault('probe', threading.Lock()):
        known = facts.get('serves_backups')
        if known is None:
            try:
                answer = request('GET', 'backups', params={'limit': 1})
                records(answer, document(answer), 'backups')
                known = True
            except errors.ApiError:
                known = False
            except errors.VbsError:
                return False  # no answer: unknown, asked again later
            facts['serves_backups'] = known
        return known
