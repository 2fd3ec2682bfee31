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

"""WSGI entry for Keystone under gunicorn (runs inside the cloud venv).

Keystone parses sys.argv with oslo.config while it builds the app; under
gunicorn sys.argv holds gunicorn's own options, which oslo.config rejects,
and the worker then crash-loops.  So argv is reset before the import.
The config file comes from OS_KEYSTONE_CONFIG_FILES (set by `cloud up`).
"""

import sys

__all__ = ["application"]

sys.argv = ["keystone-wsgi"]

from keystone.wsgi.api import application  # noqa: E402,F401
