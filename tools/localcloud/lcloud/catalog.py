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

"""Users, roles, regions, services and endpoints in Keystone.

Every step looks before it creates, so running it again is harmless and
quick (a dozen GETs).  The `vbs` entries are the point of this cloud: they
reproduce the catalog shapes the plugin has to cope with (see
../shared/reference/NOTES.md, beside the project).
"""

import json

from . import paths
from . import rest
from .proc import log

V2_NO_PROJECT = f"http://{paths.HOST}:{paths.CINDER_API_PORT}/v2/"
INTERFACES = ("public", "internal", "admin")

# (service type, service name, region, endpoint URL)
ENDPOINTS = [
    ("block-storage", "cinder", paths.REGION, paths.CINDER_V3_URL),
    ("volumev3", "cinderv3", paths.REGION, paths.CINDER_V3_URL),
    # What Open Telekom Cloud shows: another API version, no project id.
    ("vbs", "vbs", paths.REGION, V2_NO_PROJECT),
    ("vbs", "vbs", paths.SECOND_REGION, paths.CINDER_V3_URL),
    ("vbsv3", "vbsv3", paths.REGION, paths.CINDER_V3_URL),
]


def _find(session, collection, **filters):
    """The first item of a Keystone collection matching filters, or None."""
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    items = session.call("GET", f"/{collection}?{query}")[collection]
    return items[0] if items else None


def _ensure(session, collection, body, **filters):
    found = _find(session, collection, **filters)
    if found:
        return found["id"]
    singular = collection[:-1]
    log(f"keystone: creating {singular} {filters}")
    return session.call("POST", f"/{collection}",
                        {singular: body})[singular]["id"]


def _ensure_user(session, name, password, project_id):
    # The password is only set at creation: setting it again would revoke
    # the user's live tokens (cinder's own, a running test's).
    return _ensure(session, "users",
                   {"name": name, "password": password, "domain_id": "default",
                    "default_project_id": project_id},
                   name=name, domain_id="default")


def _grant(session, project_id, user_id, role_id):
    session.call("PUT",
                 f"/projects/{project_id}/users/{user_id}/roles/{role_id}")


def ensure_users(session, secret):
    """The cinder service user and the non-admin demo user."""
    admin_project = _find(session, "projects", name="admin")["id"]
    service_project = _ensure(session, "projects",
                              {"name": "service", "domain_id": "default"},
                              name="service", domain_id="default")
    roles = {name: _ensure(session, "roles", {"name": name}, name=name)
             for name in ("admin", "member", "service")}
    cinder = _ensure_user(session, "cinder", secret["cinder"], service_project)
    _grant(session, service_project, cinder, roles["admin"])
    _grant(session, service_project, cinder, roles["service"])
    demo = _ensure_user(session, "demo", secret["demo"], admin_project)
    _grant(session, admin_project, demo, roles["member"])
    return {"admin_project_id": admin_project,
            "admin_user_id": session.user_id,
            "service_project_id": service_project,
            "cinder_user_id": cinder, "demo_user_id": demo}


def _ensure_service(session, services, stype, name):
    """Id of the service (type, name), creating it if missing."""
    for service in services:
        if (service["type"], service.get("name")) == (stype, name):
            return service["id"]
    log(f"keystone: creating service {name} (type {stype})")
    service = session.call("POST", "/services", {"service": {
        "type": stype, "name": name, "enabled": True}})["service"]
    services.append(service)
    return service["id"]


def _ensure_endpoint(session, endpoints, service_id, region, interface, url):
    for endpoint in endpoints:
        if (endpoint["service_id"], endpoint["region_id"],
                endpoint["interface"]) == (service_id, region, interface):
            if endpoint["url"] != url:
                session.call("PATCH", f"/endpoints/{endpoint['id']}",
                             {"endpoint": {"url": url}})
            return
    session.call("POST", "/endpoints", {"endpoint": {
        "service_id": service_id, "region_id": region,
        "interface": interface, "url": url}})


def ensure_catalog(session):
    # The region must exist before endpoints can name it.
    try:
        session.call("GET", f"/regions/{paths.SECOND_REGION}")
    except rest.HttpError as err:
        if err.status != 404:
            raise
        log(f"keystone: creating region {paths.SECOND_REGION}")
        session.call("POST", "/regions",
                     {"region": {"id": paths.SECOND_REGION}})
    # Two listings and compare locally: one GET per endpoint made a second
    # `up` take seconds.
    services = session.call("GET", "/services")["services"]
    endpoints = session.call("GET", "/endpoints")["endpoints"]
    for stype, name, region, url in ENDPOINTS:
        service_id = _ensure_service(session, services, stype, name)
        for interface in INTERFACES:
            _ensure_endpoint(session, endpoints, service_id, region,
                             interface, url)


def register(state, secret):
    """Users, roles and catalog; records their ids in $STATE/ids.json."""
    session = rest.Session("admin", secret["admin"])
    ids = ensure_users(session, secret)
    ensure_catalog(session)
    (state.root / "ids.json").write_text(json.dumps(ids, indent=2) + "\n")
    return ids
