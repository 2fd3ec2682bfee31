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

"""Generated configuration: secrets, service configs, clouds.yaml.

Files are rewritten on every `up` (cheap, and edits here take effect after
a down/up); secrets are generated once and kept, mode 600.
"""

import json
import os
import secrets as pysecrets

from . import paths

SECRET_NAMES = ("admin", "demo", "cinder", "rabbit")


def load_secrets(state):
    """The generated passwords, creating them on first use."""
    if state.secrets.exists():
        return json.loads(state.secrets.read_text())
    # Hex only: no leading "-" that a command line could take for an option,
    # and nothing that needs quoting in URLs, ini files or YAML.
    values = {name: pysecrets.token_hex(16) for name in SECRET_NAMES}
    write_private(state.secrets, json.dumps(values, indent=2) + "\n")
    return values


def write_private(path, text):
    """Write a file that holds passwords: readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _ini(sections):
    """Render {section: {key: value}} as an oslo.config style ini file."""
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in options.items())
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------- keystone


def keystone_conf(state):
    keys = state.data / "keystone"
    return _ini({
        "DEFAULT": {"use_stderr": "true"},
        "database": {"connection": f"sqlite:///{keys / 'keystone.db'}"},
        "token": {"provider": "fernet", "expiration": 86400},
        "fernet_tokens": {"key_repository": keys / "fernet-keys"},
        "fernet_receipts": {"key_repository": keys / "fernet-keys"},
        "credential": {"key_repository": keys / "credential-keys"},
    })


# --------------------------------------------------------------- cinder


def cinder_conf(state, secret):
    cinder_data = state.data / "cinder"
    venv_etc = state.venv / "etc" / "cinder"
    return _ini({
        "DEFAULT": {
            "host": paths.CINDER_HOST,
            "my_ip": paths.HOST,
            "state_path": cinder_data,
            "auth_strategy": "keystone",
            "transport_url": (f"rabbit://vbs:{secret['rabbit']}@"
                              f"{paths.HOST}:{paths.AMQP_PORT}/"),
            "osapi_volume_listen": paths.HOST,
            "osapi_volume_listen_port": paths.CINDER_API_PORT,
            "osapi_volume_workers": 1,
            # Heartbeat every 2 s (default 10) so `up` sees fresh services
            # sooner; a service still counts as down after 60 s without one.
            "report_interval": 2,
            # The wheel installs these under the venv, not /etc/cinder.
            "api_paste_config": venv_etc / "api-paste.ini",
            "resource_query_filters_file": venv_etc / "resource_filters.json",
            "rootwrap_config": state.etc / "rootwrap.conf",
            "enabled_backends": paths.BACKEND,
            "backup_driver": "cinder.backup.drivers.posix.PosixBackupDriver",
            "backup_posix_path": state.backups_dir,
            # Bulk tests seed hundreds of backups: no quota may get in the way.
            "quota_volumes": -1,
            "quota_snapshots": -1,
            "quota_gigabytes": -1,
            "quota_backups": -1,
            "quota_backup_gigabytes": -1,
            # Pages of at most 100 (real clouds: 1000), so that the tests
            # page through lists with a few hundred backups.
            "osapi_max_limit": 100,
            "use_stderr": "true",
        },
        "database": {"connection": f"sqlite:///{cinder_data / 'cinder.db'}"},
        "keystone_authtoken": {
            "www_authenticate_uri": paths.KEYSTONE_URL,
            "auth_url": paths.KEYSTONE_URL,
            "auth_type": "password",
            "username": "cinder",
            "password": secret["cinder"],
            "project_name": "service",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
            "service_token_roles_required": "true",
        },
        "oslo_concurrency": {"lock_path": cinder_data / "locks"},
        "oslo_messaging_notifications": {"driver": "noop"},
        "coordination": {
            "backend_url": f"file://{cinder_data / 'coordination'}",
        },
        paths.BACKEND: {
            "volume_driver": "localcloud_volume_driver.FileVolumeDriver",
            "volume_backend_name": paths.BACKEND,
            "localcloud_volume_dir": state.volumes_dir,
        },
    })


def rootwrap_conf(state):
    """cinder-rootwrap's config: os-brick starts its privsep daemon as
    `sudo cinder-rootwrap <this file> privsep-helper ...`.  The filters the
    wheel ships only accept config files under /etc, so we allow
    privsep-helper with any arguments (we are root anyway).
    """
    filters_dir = state.etc / "rootwrap.d"
    filters_dir.mkdir(exist_ok=True)
    (filters_dir / "localcloud.filters").write_text(
        "[Filters]\nprivsep-helper: CommandFilter, privsep-helper, root\n")
    return _ini({"DEFAULT": {
        "filters_path": filters_dir,
        "exec_dirs": f"{state.venv / 'bin'},/usr/sbin,/usr/bin,/sbin,/bin",
        "use_syslog": "False",
    }})


# ------------------------------------------------------------- rabbitmq


def rabbitmq_conf(secret):
    return "\n".join([
        f"listeners.tcp.default = {paths.HOST}:{paths.AMQP_PORT}",
        f"distribution.listener.interface = {paths.HOST}",
        f"distribution.listener.port_range.min = {paths.RABBIT_DIST_PORT}",
        f"distribution.listener.port_range.max = {paths.RABBIT_DIST_PORT}",
        # Only read when the node's database is created, on the first start.
        "default_user = vbs",
        f"default_pass = {secret['rabbit']}",
        "loopback_users.guest = true",
        "log.console = false",
        "log.file.level = info",
        "disk_free_limit.absolute = 50MB",
        "",
    ])


# --------------------------------------------------------------- clouds


def clouds_yaml(secret):
    """clouds.yaml text (written by hand: no yaml library outside the venv)."""
    def cloud(name, user, password):
        return "\n".join([
            f"  {name}:",
            "    auth:",
            f"      auth_url: {paths.KEYSTONE_URL}",
            f"      username: {user}",
            f"      password: \"{password}\"",
            "      project_name: admin",
            "      user_domain_name: Default",
            "      project_domain_name: Default",
            f"    region_name: {paths.REGION}",
            "    identity_api_version: 3",
            "    interface: public",
        ])
    return "\n".join([
        "# Written by tools/localcloud/cloud up; regenerated on every up.",
        "clouds:",
        cloud("vbs-local", "admin", secret["admin"]),
        cloud("vbs-local-member", "demo", secret["demo"]),
        "",
    ])


def write_all(state, secret):
    """Write every config file of the cloud."""
    rabbit_etc = state.etc / "rabbitmq"
    rabbit_etc.mkdir(parents=True, exist_ok=True)
    write_private(state.keystone_conf, keystone_conf(state))
    write_private(state.cinder_conf, cinder_conf(state, secret))
    (state.etc / "rootwrap.conf").write_text(rootwrap_conf(state))
    write_private(rabbit_etc / "rabbitmq.conf", rabbitmq_conf(secret))
    (rabbit_etc / "enabled_plugins").write_text("[].\n")
    # Keeps the scripts from reading /etc/rabbitmq/rabbitmq-env.conf.
    (rabbit_etc / "rabbitmq-env.conf").write_text("# intentionally empty\n")
    write_private(state.clouds_yaml, clouds_yaml(secret))
