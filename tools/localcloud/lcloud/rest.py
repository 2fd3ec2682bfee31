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

"""A tiny JSON-over-HTTP client (stdlib only) for Keystone and Cinder.

The `cloud` script runs outside the cloud venv, and plain HTTP is also much
faster than one `openstack` command (2 to 4 s each on this machine).
"""

import json
import urllib.error
import urllib.request

from . import paths


class HttpError(RuntimeError):
    def __init__(self, method, url, status, body):
        super().__init__(f"{method} {url} -> HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


def request(method, url, body=None, headers=None, timeout=30):
    """Send a request; returns (status, headers, parsed JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            # resp.headers is case-insensitive, which matters: header case
            # differs between servers.
            return resp.status, resp.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raise HttpError(method, url, err.code,
                        err.read().decode(errors="replace")) from None


def answers(url):
    """True if an HTTP server answers at url (any status counts)."""
    try:
        request("GET", url, timeout=3)
        return True
    except HttpError:
        return True
    except OSError:
        return False


class Session:
    """A project-scoped Keystone token, with helpers to call the APIs."""

    def __init__(self, username, password, project="admin"):
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": username, "password": password,
                "domain": {"id": "default"}}}},
            "scope": {"project": {"name": project,
                                  "domain": {"id": "default"}}}}}
        _, headers, data = request("POST", f"{paths.KEYSTONE_URL}/auth/tokens",
                                   body)
        self.token = headers["X-Subject-Token"]
        self.project_id = data["token"]["project"]["id"]
        self.user_id = data["token"]["user"]["id"]
        self.cinder_url = (f"http://{paths.HOST}:{paths.CINDER_API_PORT}"
                           f"/v3/{self.project_id}")

    def call(self, method, url, body=None):
        if not url.startswith("http"):
            url = paths.KEYSTONE_URL + url
        return request(method, url, body, {"X-Auth-Token": self.token})[2]

    def cinder(self, method, path, body=None):
        return self.call(method, self.cinder_url + path, body)
