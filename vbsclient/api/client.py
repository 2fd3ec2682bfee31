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

"""The VBS backup API (native OpenStack v3, or v2) over a keystoneauth session.

Usable as a library without the CLI:

    from keystoneauth1 import session
    from vbsclient.api.client import BackupClient

    client = BackupClient(session.Session(auth=...), region_name='eu-de')
    client.delete('592a0c4d-65a3-4051-8d51-1e2b6401b2d8')

keystoneauth does authentication, the catalog, TLS verification and the
user agent; every request goes through the run's pipeline
(vbsclient.api.pipeline: limits, retries, tokens, stop, deadlines).
BackupClient builds the requests of the resource's verbs; Requests, its
base, holds the settings and the run they are sent in. What an answer means
is answers.py's, following pages paging.py's, names lookups.py's, where
the endpoint is endpoint.py's. It knows nothing of retries, tokens or
limits.
"""

import copy
import dataclasses

from vbsclient.api import answers
from vbsclient.api import endpoint
from vbsclient.api import errors
from vbsclient.api import ids
from vbsclient.api import listing
from vbsclient.api import lookups
from vbsclient.api import paging
from vbsclient.api import pipeline as api_pipeline
from vbsclient.api import retry
from vbsclient.api import transport

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
# A request, retries and pauses included, ends within this many attempts'
# time (connect + read timeout each); so does each backup of a bulk delete.
BUDGET_IN_ATTEMPTS = 3


class Requests:
    """The requests of one project at one VBS endpoint: its settings,
    where it is, and the run each request goes through (_request).

    retries: how often one request is retried after a connection failure,
    a 502/503/504 or throttling (413/429, waiting as Retry-After says).
    connect_timeout, read_timeout: seconds; together they bound a whole
    attempt, and BUDGET_IN_ATTEMPTS of them a whole request.

    configured() and bound() return copies that share the endpoint (and
    its connections) but not their settings or run state. A client bound
    to no run makes each call (a whole list, a lookup) a run of its own.
    """

    def __init__(self, session, api_version='3', service_type='vbs',
                 interface=None, region_name=None, endpoint_override=None,
                 retries=retry.DEFAULT_RETRIES,
                 connect_timeout=DEFAULT_CONNECT_TIMEOUT,
                 read_timeout=DEFAULT_READ_TIMEOUT):
        self.session = session
        self.settings = api_pipeline.Settings(retries, connect_timeout,
                                              read_timeout)
        self._place = endpoint.Place(endpoint.Where(
            session, str(api_version).split('.')[0], service_type,
            interface, region_name, endpoint_override))
        self._pipeline = None  # None: each call is a run of its own
        self._deadline = None  # the pipeline's now() by which to give up
        # What a run learnt of its endpoint (answers.explain_404).
        self._facts = {}

    @property
    def where(self):
        """What finds the endpoint (endpoint.Where)."""
        return self._place.where

    def configured(self, retries=None, connect_timeout=None,
                   read_timeout=None):
        """A copy with other network settings (None: keep this one's)."""
        other = copy.copy(self)
        other.settings = dataclasses.replace(self.settings, **{
            name: value for name, value in (
                ('retries', retries), ('connect_timeout', connect_timeout),
                ('read_timeout', read_timeout)) if value is not None})
        return other

    def bound(self, pipeline=None, deadline=None):
        """A copy whose requests go through `pipeline` (one run's: a
        vbsclient.api.pipeline.Pipeline) and give up at `deadline` (a
        value of the pipeline's now()).
        """
        other = copy.copy(self)
        if pipeline is not None and pipeline is not self._pipeline:
            other._pipeline, other._facts = pipeline, {}
        other._deadline = deadline
        return other

    @property
    def budget(self):
        """Seconds one request (or one backup of a bulk delete) may take."""
        return BUDGET_IN_ATTEMPTS * (self.settings.connect_timeout
                                     + self.settings.read_timeout)

    def check_endpoint(self):
        """Find the endpoint now; raise ConfigurationError if none works.

        Costs a token (and the catalog), not a request to VBS.
        """
        self._place.adapter()

    def allow_parallel(self, workers):
        """Let `workers` threads share the session without queueing for
        connections (requests keeps 10 per host by default).
        """
        transport.mount(self.session, workers)

    def _in_a_run(self):
        """This copy if it is bound to a run, else one bound to a run of
        its own, for one call (each list page, each retry of it, shares
        the same stop, breaker and token guard).
        """
        if self._pipeline is not None:
            return self
        return self.bound(pipeline=api_pipeline.Pipeline())

    def _request(self, method, path, service=None, **kwargs):
        """Send through the run's pipeline; return the answer or raise its
        error.

        service: the adapter to send through (default: the VBS endpoint's).
        A request that changes something (not a GET) and fails after an
        earlier attempt of it was cut off raises Unconfirmed: it may have
        been carried out, whatever the final answer says.
        """
        pipeline = self._pipeline or api_pipeline.Pipeline()
        # Not retried: finding the endpoint is a setting, not a fault.
        place = service or self._place.adapter()
        deadline = self._deadline
        if deadline is None:
            deadline = pipeline.now() + self.budget
        final = pipeline.send(place, method, path, self.settings, deadline,
                              **kwargs)
        error = final.error or answers.error_of(final.answer)
        if error is None:
            return final.answer
        if final.may_have_acted and method != 'GET' \
                and not isinstance(error, errors.NotSent):
            raise errors.Unconfirmed(error, final.retries_left)
        raise error


class BackupClient(Requests, lookups.Lookups):
    """Backups of one project, at one VBS endpoint: the resource's verbs
    (Requests: the settings and the run; lookups.Lookups: names to IDs).
    """

    def delete(self, backup_id, gate=None):
        """Ask for the backup's deletion; return the request ID.

        202 means accepted: the backup goes to "deleting", then disappears
        (see vbsclient.api.waiter). Raises Unconfirmed when the request
        failed after an earlier attempt was cut off. gate: asked just
        before it is sent (vbsclient.api.pipeline.Pipeline.send).
        """
        return self._in_a_run()._request(
            'DELETE', 'backups/' + ids.path_segment(backup_id),
            gate=gate).request_id

    def force_delete(self, backup_id, gate=None):
        """Delete a backup whatever its status (admin; os-force_delete)."""
        return self._in_a_run()._request(
            'POST', 'backups/%s/action' % ids.path_segment(backup_id),
            gate=gate, json={'os-force_delete': {}}).request_id

    def get(self, backup_id):
        """Return the backup's record (a dict).

        Raises NotFound only when the API itself says the backup does not
        exist: a 404 from a wrong endpoint is an error of its own.
        """
        client = self._in_a_run()
        path = 'backups/' + ids.path_segment(backup_id)
        try:
            answer = client._request('GET', path)
        except errors.ApiError as exc:
            if exc.status_code == 404 and not isinstance(exc, errors.NotFound):
                raise answers.explain_404(exc, client._request, client._facts)
            raise
        return answers.field(answer, answers.document(answer), 'backup',
                             dict)

    def list(self, detailed=False, most_pages=paging.MAX_PAGES, report=None,
             **filters):
        """Yield backups, following "backups_links" pages: each backup
        once, and only those that match name, status and volume_id, as
        their records show them (vbsclient.api.listing), whatever the
        server's filters did.

        Filters: name, status, volume_id, limit (page size), marker,
        all_tenants and project_id (admin), and any other query parameter
        the server takes. Unset (None) ones are left out. Every record has
        a string "id". A list of more than most_pages pages raises
        ListCutShort; a listing.Report, if given, learns what it met.
        """
        path = 'backups/detail' if detailed else 'backups'
        return listing.trusted(
            paging.pages(self._in_a_run()._request, path, 'backups',
                         filters, most_pages, report),
            filters, detailed, report)
