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

"""Names to IDs: of a backup, a volume, a project. An ID costs no
request; a name must match exactly one, never guessed.
"""

import re

from vbsclient.api import answers
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import paging
from vbsclient.api import text as safe_text

# Keystone's own project IDs: a UUID's 32 hexadecimal digits.
_PROJECT_ID = re.compile(r'[0-9a-f]{32}\Z')


class Lookups:
    """The lookups of a BackupClient (vbsclient.api.client), which sends
    their requests: list(), _in_a_run() and _request().
    """

    def find(self, name_or_id, **filters):
        """Return (backup_id, name) for a backup ID or an exact name.

        A UUID is taken as an ID and costs no request (name is then None).
        A name is looked up through the list (with these list filters,
        e.g. all_tenants) and must match exactly one backup: several
        matches are refused, never guessed.
        """
        if ids.is_uuid(name_or_id):
            return name_or_id.lower(), None
        # Only an exact match counts, whatever the server's filter does
        # (listing.trusted).
        matches = [b['id'] for b in self.list(name=name_or_id, **filters)]
        if not matches:
            raise errors.BackupNotFound(
                'No backup with name or ID %s exists.'
                % safe_text.quoted(name_or_id))
        return _only(matches, 'backups', name_or_id), name_or_id

    def find_volume(self, name_or_id, **filters):
        """Return the ID of a volume given by ID or exact name.

        A UUID is taken as an ID and costs no request. A name is looked up
        through Cinder's volume list on the same endpoint (with these
        filters, e.g. all_tenants) and must match exactly one volume.
        Raises errors.LookupFailed when none matches or the endpoint has no
        volume API, AmbiguousName when several do.
        """
        if ids.is_uuid(name_or_id):
            return name_or_id.lower()
        try:
            matches = [v['id'] for v in paging.pages(
                self._in_a_run()._request, 'volumes', 'volumes',
                dict(filters, name=name_or_id))
                if v.get('name') == name_or_id]
        except errors.ApiError as exc:
            raise _lookup_failed('volume', name_or_id, exc) from exc
        if not matches:
            raise errors.LookupFailed('No volume with name or ID %s exists.'
                                      % safe_text.quoted(name_or_id))
        return _only(matches, 'volumes', name_or_id)

    def find_project(self, name_or_id):
        """Return the ID of a project given by ID or exact name.

        An ID (32 hexadecimal digits, or a UUID) costs no request. A name
        is looked up in Keystone (listing projects is usually for admins)
        and must match exactly one project (names repeat across domains).
        """
        if _PROJECT_ID.match(name_or_id) or ids.is_uuid(name_or_id):
            return name_or_id
        try:
            answer = self._request('GET', 'projects',
                                   params={'name': name_or_id},
                                   service=self._place.identity())
            projects = answers.field(answer, answers.document(answer),
                                     'projects', list)
        except (errors.ApiError, errors.EndpointNotFound) as exc:
            raise _lookup_failed('project', name_or_id, exc) from exc
        matches = [p['id'] for p in projects if isinstance(p, dict)
                   and p.get('name') == name_or_id
                   and isinstance(p.get('id'), str)]
        if not matches:
            raise errors.LookupFailed(
                'No project with name or ID %s exists (or you may not list '
                'projects).' % safe_text.quoted(name_or_id))
        return _only(matches, 'projects', name_or_id)


def _only(matches, things, name):
    """The one ID a name matched; AmbiguousName when it matched several."""
    if len(matches) > 1:
        raise errors.AmbiguousName(
            '%d %s are named %s (%s): name one by its ID.'
            % (len(matches), things, safe_text.quoted(name),
               safe_text.cap(', '.join(matches), 1000)))
    return matches[0]


def _lookup_failed(thing, name, exc):
    """A lookup's failure as one line that says what to do instead."""
    reason = str(exc)
    if isinstance(exc, errors.ApiError):
        # Its own hint is about backups; ours is below.
        reason = str(exc.with_hint(''))
    return errors.LookupFailed(
        'The %s name %s could not be looked up: %s. Name the %s by its ID.'
        % (thing, safe_text.quoted(name), reason, thing))
