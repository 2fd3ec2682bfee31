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
