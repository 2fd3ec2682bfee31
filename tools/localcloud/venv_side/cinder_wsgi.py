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

"""WSGI entry for the Cinder API under gunicorn (runs inside the cloud venv).

Cinder builds its app with CONF(sys.argv[1:]): gunicorn's options must not
reach it, and its config file is passed the way cinder-api would get it.
"""

import os
import sys

__all__ = ["application"]

sys.argv = ["cinder-api", "--config-file",
            os.environ["VBS_LOCALCLOUD_CINDER_CONF"]]

from cinder.wsgi.api import application  # noqa: E402,F401
