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

"""What to do about a failure, in terms of this CLI's options.

The API layer's messages say what went wrong and what to check; only the
command line knows which option would change it.
"""

from vbsclient.api import chains
from vbsclient.api import errors

_ENDPOINT_OPTIONS = ('set the endpoint with --os-vbs-endpoint-override, or '
                     'choose the catalog entry with --os-vbs-service-type, '
                     '--os-vbs-region-name and --os-vbs-interface')


def for_error(error, force=False):
    """A hint naming options, or '' when none would help."""
    if isinstance(error, errors.Unconfirmed):
        error = error.cause
    if isinstance(error, (errors.EndpointNotFound, errors.UnexpectedAnswer)):
        return _ENDPOINT_OPTIONS
    if isinstance(error, errors.ApiError):
        if error.status_code == 400 and not force \
                and not chains.refused_for_dependents(error):
            return '--force deletes a backup in another status'
        if error.status_code in (405, 406, 501):
            return ('check --os-vbs-endpoint-override and '
                    '--os-vbs-api-version')
    return ''


def with_hint(message, error, force=False):
    hint = for_error(error, force)
    return '%s (%s)' % (message, hint) if hint else message
