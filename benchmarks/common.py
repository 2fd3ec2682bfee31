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

"""Helpers shared by the benchmark scripts (standard library + .venv only).

Three groups:

* running a child process and measuring it (wall time, exit status,
  peak RSS via os.wait4), plus medians, ratios and a plain-text table;
* the local cloud (tools/localcloud): its environment, seeding cheap
  backup rows, an admin keystoneauth session to check and clean up what
  a benchmark seeded;
* temporary clouds.yaml files (for endpoint overrides through proxies);
* the server's side of a run, read from the local cloud's logs: how long
  Cinder's API took per DELETE, how often SQLite said "database is locked";
  and swapping the API's server (gunicorn or eventlet).
"""

import argparse
import contextlib
import datetime
import json
import os
from pathlib import Path
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / '.venv' / 'bin'
OPENSTACK = str(VENV_BIN / 'openstack')
CLOUD_TOOL = str(REPO / 'tools' / 'localcloud' / 'cloud')
LOCAL_CLOUD = 'vbs-local'

# tools/faultproxy.py and tests/cli/fake_cloud.py are imported by path.
for _folder in (REPO / 'tools', REPO):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))


# -- command line and output ------------------------------------------------

def argument_parser(doc):
    """An ArgumentParser whose --help shows the script's docstring."""
    return argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError('%r is not a positive number' % text)
    return value


def print_table(title, headers, rows):
    """Print rows as a left-aligned text table under a title."""
    cells = [[str(c) for c in row] for row in [headers] + list(rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = '  '.join('-' * w for w in widths)
    print('\n' + title)
    print(line)
    for number, row in enumerate(cells):
        print('  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if number == 0:
            print(line)
    print(line)


def median(values):
    return statistics.median(values)


def ratio(numerator, denominator):
    """'x.xx' or 'n/a' when the denominator is zero."""
    if not denominator:
        return 'n/a'
    return '%.2f' % (numerator / denominator)


def seconds(value):
    return '%.2f s' % value


def spread(values):
    """'min-max' of a list of seconds, to show the noise next to a median."""
    return '%.2f-%.2f s' % (min(values), max(values))


def plugin_revision():
    """The plugin's commit, and its uncommitted files: runs are only
    comparable for the same code, and the working tree often differs.
    """
    def git(*args):
        done = subprocess.run(['git', '-C', str(REPO)] + list(args),
                              capture_output=True, text=True)
        return done.stdout.rstrip() if done.returncode == 0 else ''
    commit = git('rev-parse', '--short', 'HEAD') or 'unknown'
    changed = git('status', '--porcelain', '--', 'vbsclient').splitlines()
    if not changed:
        return commit
    return '%s + uncommitted %s' % (
        commit, ', '.join(line[3:] for line in changed))


def note(text):
    """Progress and explanations go to stderr; the tables go to stdout."""
    print(text, file=sys.stderr, flush=True)


# -- running children -------------------------------------------------------

class Run:
    """One finished child process."""

    def __init__(self, argv, seconds, returncode, stdout, stderr, maxrss_kib):
        self.argv = argv
        self.seconds = seconds
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.maxrss_kib = maxrss_kib

    def check(self, *allowed):
        """Fail loudly on an unexpected exit status (default: only 0)."""
        if self.returncode not in (allowed or (0,)):
            raise SystemExit('command failed (exit %s): %s\n%s' % (
                self.returncode, ' '.join(self.argv[:6]) + ' ...',
                self.stderr[-3000:]))
        return self


def run(argv, env=None, stdin_path=None):
    """Run argv to completion; measure wall time and the child's peak RSS.

    Output goes to temporary files, not pipes: os.wait4 (which gives the
    rusage of exactly this child) can then wait without any reader thread,
    and a chatty child cannot block on a full pipe.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            contextlib.ExitStack() as stack:
        stdin = (stack.enter_context(open(stdin_path, 'rb'))
                 if stdin_path else subprocess.DEVNULL)
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdin=stdin, stdout=out,
                                 stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped
        out.seek(0)
        err.seek(0)
        return Run(argv, elapsed, child.returncode,
                   out.read().decode(errors='replace'),
                   err.read().decode(errors='replace'), usage.ru_maxrss)


def child_env(**extra):
    """This process's environment without any OS_* setting, plus extra.

    Each benchmark says exactly which cloud a child talks to; a stray
    OS_CLOUD or OS_AUTH_URL from the caller's shell must not leak in.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.update(extra)
    return env


def fake_cloud_run(folder, cloud, ids):
    """A FakeCloud's clouds.yaml and the IDs, one a line, written into
    `folder`: (the child's environment, the IDs file's path).
    """
    clouds_yaml = Path(folder) / 'clouds.yaml'
    clouds_yaml.write_text(cloud.clouds_yaml())
    ids_file = Path(folder) / 'ids.txt'
    ids_file.write_text('\n'.join(ids) + '\n')
    env = child_env(OS_CLIENT_CONFIG_FILE=str(clouds_yaml), OS_CLOUD='fake')
    return env, str(ids_file)


@contextlib.contextmanager
def temp_dir(prefix='vbs-bench-'):
    """A private temporary folder (mode 700), removed at the end."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_clouds_yaml(folder, clouds):
    """Write {name: config} as clouds.yaml (JSON is valid YAML); mode 600.

    It holds a password: the folder is private and removed afterwards.
    """
    path = Path(folder) / 'clouds.yaml'
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as stream:
        json.dump({'clouds': clouds}, stream, indent=2)
    return str(path)


# -- the local cloud --------------------------------------------------------

def local_cloud_env():
    """Make sure the local cloud runs; return its OS_* settings as a dict.

    Also applies them to this process, so openstack.config finds the
    cloud's clouds.yaml for the admin session.
    """
    status = subprocess.run([CLOUD_TOOL, 'status'], capture_output=True,
                            text=True)
    if status.returncode != 0:
        note('local cloud not (fully) running: tools/localcloud/cloud up')
        subprocess.run([CLOUD_TOOL, 'up'], check=True,
                       stdout=subprocess.DEVNULL)
    text = subprocess.run([CLOUD_TOOL, 'env'], capture_output=True,
                          text=True, check=True).stdout
    settings = {}
    for line in text.splitlines():
        if line.startswith('export '):
            key, _, value = line[len('export '):].partition('=')
            settings[key] = value.strip().strip('\'"')
    for key in [k for k in os.environ if k.startswith('OS_')]:
        del os.environ[key]
    os.environ.update(settings)
    return settings


def switch_api_server(server):
    """Serve the local cloud's Cinder API with 'gunicorn' or 'eventlet'
    (`cloud cinder-api`: the rest of the cloud keeps running).
    """
    note('cinder API server: %s' % server)
    done = subprocess.run([CLOUD_TOOL, 'cinder-api', server],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit('cloud cinder-api %s failed:\n%s'
                         % (server, done.stderr[-3000:]))


def local_cloud_log(service):
    """Path of a local cloud service's log (local_cloud_env() first)."""
    return Path(os.environ['VBS_LOCALCLOUD_DIR']) / 'log' / (service + '.log')


def local_cloud_config(name=LOCAL_CLOUD):
    """The cloud's entry of the local cloud's clouds.yaml, as a dict."""
    import yaml  # PyYAML comes with openstacksdk
    with open(os.environ['OS_CLIENT_CONFIG_FILE']) as stream:
        return yaml.safe_load(stream)['clouds'][name]


def seed_rows(count, prefix):
    """Seed `count` cheap backup rows; return (volume_id, [backup ids]).

    Every batch gets its own (fake) volume id, so what is left of it can
    be listed with one filtered request, and cleaned up.
    """
    volume_id = str(uuid.uuid4())
    done = subprocess.run(
        [CLOUD_TOOL, 'seed-rows', '--count', str(count), '--volume-id',
         volume_id, '--name-prefix', prefix],
        capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit('seed-rows failed:\n' + done.stderr[-3000:])
    return volume_id, [row['id'] for row in json.loads(done.stdout)]


class Admin:
    """An admin keystoneauth session on the local cloud's Cinder.

    Used outside the measured runs: to check that backups are really gone,
    to time raw DELETEs (the ceiling), and to clean up leftovers.
    """

    def __init__(self, cloud=LOCAL_CLOUD):
        import openstack.config
        region = openstack.config.OpenStackConfig().get_one(cloud)
        self.session = region.get_session()
        self.endpoint = self.session.get_endpoint(
            service_type='block-storage', interface='public')
        self.project_id = self.session.get_project_id()

    def cinder_root(self):
        """scheme://host:port of Cinder, the upstream of a proxy."""
        parts = self.endpoint.split('/')
        return '/'.join(parts[:3])

    def delete(self, backup_id):
        """One raw DELETE; return the request's elapsed time in seconds.

        response.elapsed runs from sending the request until the answer's
        headers are parsed: the server's time plus a loopback round trip.
        """
        response = self.session.delete(
            '%s/backups/%s' % (self.endpoint, backup_id), raise_exc=False)
        if response.status_code != 202:
            raise SystemExit('raw DELETE %s answered %d: %s' % (
                backup_id, response.status_code, response.text[:300]))
        return response.elapsed.total_seconds()

    def remaining(self, volume_id):
        """{id: status} of the backups still there for this volume id."""
        found = {}
        url = '%s/backups/detail' % self.endpoint
        params = {'volume_id': volume_id}
        while url:
            body = self.session.get(url, params=params).json()
            found.update({b['id']: b['status'] for b in body['backups']})
            url = next((link['href'] for link in
                        body.get('backups_links') or ()
                        if link.get('rel') == 'next'), None)
            params = None  # the next link carries the whole query
        return found

    def wait_gone(self, volume_ids, timeout=120.0):
        """Wait until every backup of these batches has left; return {id:
        status} of what is still there at the timeout (empty: all gone).

        A 202 only means "deleting": cinder-backup removes the row later.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = {}
            for volume_id in volume_ids:
                left.update(self.remaining(volume_id))
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.5)

    def wait_settled(self, volume_ids, timeout=120.0):
        """Wait until no backup of these batches is 'deleting' any more;
        return {id: status} of what is left (backups never deleted).
        """
        deadline = time.monotonic() + timeout
        while True:
            left = {}
            for volume_id in volume_ids:
                left.update(self.remaining(volume_id))
            busy = [s for s in left.values() if s == 'deleting']
            if not busy or time.monotonic() > deadline:
                return left
            time.sleep(0.5)

    def force_delete(self, backup_ids):
        """os-force_delete each backup (whatever its status)."""
        for backup_id in backup_ids:
            self.session.post(
                '%s/backups/%s/action' % (self.endpoint, backup_id),
                json={'os-force_delete': {}}, raise_exc=False)


class Seeded:
    """The batches a benchmark seeded, cleaned up when it ends.

    with Seeded(admin) as seeded:
        ids = seeded.batch(50, 'bench-x')
    On exit, whatever is left of any batch is force-deleted (a run that
    failed half-way must not leave rows behind).
    """

    def __init__(self, admin):
        self.admin = admin
        self.volume_ids = []

    def __enter__(self):
        return self

    def batch(self, count, prefix):
        volume_id, ids = seed_rows(count, prefix)
        self.volume_ids.append(volume_id)
        return volume_id, ids

    def __exit__(self, *exc):
        left = self.admin.wait_gone(self.volume_ids, timeout=5.0)
        if not left:
            return
        # Rows in "deleting" are on their way out already; the rest never
        # got a delete (an interrupted run): force them.
        stuck = [i for i, status in left.items() if status != 'deleting']
        if stuck:
            note('clean-up: force-deleting %d leftover backup(s)'
                 % len(stuck))
            self.admin.force_delete(stuck)
        left = self.admin.wait_gone(self.volume_ids, timeout=60.0)
        if left:
            note('clean-up: still there after force-delete: %s'
                 % ', '.join(sorted(left)))


# -- the server's side, from the local cloud's logs ------------------------

class LogTail:
    """The text a log file gains from now on (read it with .read())."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.offset = self.path.stat().st_size
        except OSError:
            self.offset = 0

    def read(self):
        try:
            with open(self.path, 'rb') as stream:
                stream.seek(self.offset)
                return stream.read().decode(errors='replace')
        except OSError:
            return ''


# Cinder's API logs "DELETE <url>" when a request reaches the app (after
# keystonemiddleware) and "<url> returned with HTTP <status>" when it
# answers, both with the request ID: the same lines under gunicorn and
# eventlet, so one measure fits both servers.
_LOG_LINE = re.compile(
    r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \d+ INFO '
    r'cinder\.api\.openstack\.wsgi \[\S+ (req-[0-9a-f-]+)[^\]]*\] '
    r'(?:(DELETE) \S+/backups/[0-9a-f-]{36}|'
    r'\S+/backups/[0-9a-f-]{36} (returned) with HTTP)', re.M)


def delete_server_times(log_text):
    """Seconds Cinder's API spent on each backup DELETE in this log text."""
    began, spent = {}, []
    for stamp, request_id, delete, returned in _LOG_LINE.findall(log_text):
        when = datetime.datetime.strptime(stamp, '%Y-%m-%d %H:%M:%S.%f')
        if delete:
            began[request_id] = when
        elif returned and request_id in began:
            spent.append((when - began.pop(request_id)).total_seconds())
    return spent


def percentile(values, fraction):
    """The value below which `fraction` of the values lie (nearest rank)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]
