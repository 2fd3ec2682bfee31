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
