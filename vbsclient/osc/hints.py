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

"""What to do about a failure: the one place that says it.

A hint follows from what is known (the HTTP status, the VBS error code,
the backup's status as last seen, whether a cut-off attempt may have
acted), never from a guess; where none of that says more, the API error's
own hint stands. Only the command line knows which option would help, so
the hints live here, and the API layer's name no option.
"""

from vbsclient.api import chains
from vbsclient.api import errors

_ENDPOINT_OPTIONS = ('set the endpoint with --os-vbs-endpoint-override, or '
                     'choose the catalog entry with --os-vbs-service-type, '
                     '--os-vbs-region-name and --os-vbs-interface')


def reason(outcome, force=False):
    """A row's Reason: what happened, then (for a failure) what to do."""
    error = outcome.error
    if not outcome.failed or error is None:
        return outcome.reason
    cause = error.cause if isinstance(error, errors.Unconfirmed) else error
    what = getattr(cause, 'summary', None) or str(cause)
    # A hint that knows more replaces the error's own; options that would
    # help are added to it.
    hint = _for_outcome(outcome, error, force) or '; '.join(
        h for h in (getattr(cause, 'hint', None), for_error(cause)) if h)
    return '%s: %s' % (what, hint) if hint else what


def for_error(error):
    """A hint naming options for an error that ends a whole command (a
    list, a show, a lookup), or ''.
    """
    if isinstance(error, errors.Unconfirmed):
        error = error.cause
    if isinstance(error, (errors.EndpointNotFound, errors.UnexpectedAnswer)):
        return _ENDPOINT_OPTIONS
    if isinstance(error, errors.ApiError) and _wrong_api(error):
        return 'check --os-vbs-endpoint-override and --os-vbs-api-version'
    if isinstance(error, errors.TransportError):
        return _transport(error)
    return ''


def with_hint(message, error):
    """The message of an error that ends a whole command, with options
    that would help after what it already says.
    """
    hint = for_error(error)
    return '%s; %s' % (message.rstrip('.'), hint) if hint else message


def _for_outcome(outcome, error, force):
    show = "'openstack vbs backup show %s'" % (
        outcome.backup_id or outcome.argument)
    if isinstance(error, errors.Unconfirmed):
        return ('an attempt was cut off or answered by a gateway and may '
                'have deleted it all the same: check with %s; a rerun is '
                'safe' % show)
    if isinstance(error, errors.NotGoneInTime):
        return ('the server is still deleting it: rerun later with --wait '
                '(a rerun is safe) or give --timeout more time; %s shows '
                'its status' % show)
    if isinstance(error, errors.FailedOnServer):
        return _forced_or_operators(force, 'error_deleting')
    if isinstance(error, errors.TransportError):
        return _transport(error)
    if isinstance(error, errors.ApiError):
        return _api(error, outcome.status, force)
    return ''


def _api(error, status, force):
    if error.error_code or error.status_code not in (400, 404, 409):
        return ''  # the code's or the status's own hint says it
    if error.status_code == 404:
        if status is not None and isinstance(error, errors.NotFound):
            return ('yet the backup is there (status %s): ask the cloud\'s '
                    'operators' % status)
        return ''
    if chains.refused_for_dependents(error) or status is None:
        return ''
    if status in chains.DELETABLE:
        return ''  # its status is not why: the server's message says
    return _forced_or_operators(force, status)


def _forced_or_operators(force, status):
    if force:
        return ('even forced, the server did not delete it (status %s): '
                'ask the cloud\'s operators' % status)
    return ('its status is %s: --force deletes a backup in any status '
            '(admin only by default)' % status)


def _transport(error):
    if not error.retriable:
        return ''  # a certificate or a URL: its own message says which
    if error.may_have_reached_server:
        return 'the server is slow or the network is: try again, or raise ' \
               '--read-timeout'
    return ('check the network, the endpoint, and the proxy settings '
            '(HTTPS_PROXY, NO_PROXY), or raise --connect-timeout')


def _wrong_api(error):
    return error.status_code in (405, 406, 501)
