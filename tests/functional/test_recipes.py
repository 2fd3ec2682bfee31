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

"""The runbooks' recipes (doc/source/recipes/), run as written against the
local cloud (issue 22).

Each recipe file is executed as it is, with only what a reader substitutes
given through the environment variables it documents (VOLUME_ID, OS_CLOUD,
OPENSTACK, LOG_DIR, TIME_LIMIT) or its arguments. The cron entry is run
the way cron runs it: its command through /bin/sh -c, with cron's
environment (HOME, LOGNAME, SHELL=/bin/sh, PATH=/usr/bin:/bin), so the
wrapper must find openstack by the absolute path it names. The nightly
prune prunes a whole project: it runs in a project of its own, made in
Keystone for the test, so it sees no other test's backups. Outcomes are
checked at the server.
"""

import getpass
import json
import os
import re
import shlex
import shutil
import subprocess

from openstack import config as os_config
import pytest
import yaml

from tests.functional.conftest import _tag
from tests.functional.conftest import CINDER
from tests.functional.conftest import cloud_tool
from tests.functional.conftest import new_id
from tests.functional.conftest import OPENSTACK
from tests.functional.conftest import REPO
from tests.functional.conftest import Server

RECIPES = REPO / 'doc' / 'source' / 'recipes'
RUNBOOKS = REPO / 'doc' / 'source' / 'runbooks.rst'
# Where the runbooks install the wrapper, as the cron entry names it.
WRAPPER = '/usr/local/bin/vbs-prune'
CRON_PATH = '/usr/bin:/bin'
KEYSTONE = 'http://127.0.0.1:5000/v3'
MISSING = '0d6f4c59-5d0c-4a39-a1a4-5f0000000022'
DAY = 86400

# Every recipe file, and the test(s) below that run it.
RUN_BY = {
    'delete-error-backups.sh': 'test_delete_error_backups',
    'delete-volume-backups.sh': 'test_delete_every_backup_of_a_volume',
    'delete-ids-in-a-file.sh': 'test_delete_the_ids_in_a_file',
    'check-first.sh': 'test_check_first',
    'force-delete.sh': 'test_force_delete',
    'sequential.sh': 'test_sequential',
    'vbs-prune.cron': 'test_the_cron_entry_runs_as_cron_runs_it',
    'vbs-prune.sh': 'test_the_time_limit_stops_the_prune_with_143',
}


def test_every_recipe_is_in_the_runbooks_and_run_here():
    files = {p.name for p in RECIPES.iterdir() if not p.name.startswith('.')}
    assert files == set(RUN_BY)
    page = RUNBOOKS.read_text()
    for name, test in RUN_BY.items():
        assert '.. literalinclude:: recipes/%s\n' % name in page, name
        assert test in globals(), test
        if name.endswith('.sh'):
            assert os.access(RECIPES / name, os.X_OK), name
            assert (RECIPES / name).read_text().startswith('#!/bin/bash\n')


# -- the recipes for a terminal or a script ----------------------------------

@pytest.fixture
def recipe(cloud_env, tmp_path):
    """recipe(name, *args, **env) runs a recipe file as it is, in tmp_path,
    with the local cloud as OS_CLOUD and the venv's openstack on PATH.
    """
    base = dict(cloud_env, OS_CLOUD='vbs-local',
                PATH=os.path.dirname(OPENSTACK) + os.pathsep
                + cloud_env.get('PATH', ''))

    def run(name, *args, **env):
        return subprocess.run([str(RECIPES / name), *args], cwd=tmp_path,
                              env=dict(base, **env), capture_output=True,
                              text=True, timeout=600)
    return run


def test_delete_error_backups(recipe, server, rows):
    volume = new_id()
    doomed = rows(5, status='error', volume_id=volume)
    spared = (rows(2, volume_id=volume)                  # not in error
              + rows(2, status='error'))                 # another volume

    # VOLUME_ID unset: list refuses the empty filter (exit 2), delete -
    # gets nothing and exits 0; pipefail makes the recipe exit 2.
    unset = recipe('delete-error-backups.sh')
    assert unset.returncode == 2, unset.stderr
    assert 'no backups named on standard input' in unset.stderr
    for backup in doomed + spared:
        assert server.backup(backup) is not None

    result = recipe('delete-error-backups.sh', VOLUME_ID=volume)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ('', '')   # quiet
    for backup in doomed:
        assert server.backup(backup) is None              # --wait: gone
    for backup in spared:
        assert server.backup(backup) is not None


def test_delete_every_backup_of_a_volume(recipe, server, rows):
    volume = cloud_tool('seed-volume', '--name', 'recipe-' + _tag())['id']
    # A real chain: a full backup and two incrementals, and rows of the
    # same volume in other statuses; and another volume's backups.
    chain = [cloud_tool('seed-backup', '--volume', volume)['id']]
    for _ in range(2):
        chain.append(cloud_tool('seed-backup', '--volume', volume,
                                '--incremental')['id'])
    assert server.backup(chain[0])['has_dependent_backups']
    doomed = chain + rows(2, volume_id=volume) + rows(
        1, status='error', volume_id=volume)
    spared = rows(2, volume_id=new_id())

    try:
        result = recipe('delete-volume-backups.sh', VOLUME_ID=volume)
        assert result.returncode == 0, result.stderr
        for backup in doomed:
            assert server.backup(backup) is None
        for backup in spared:
            assert server.backup(backup) is not None
        assert server._get('/backups?volume_id=%s' % volume)['backups'] \
            == []
    finally:
        for backup in chain[::-1]:      # the real ones, should it fail
            server.force_delete(backup)


@pytest.mark.skipif(shutil.which('jq') is None,
                    reason='the recipe needs jq (apt-get install jq)')
def test_delete_the_ids_in_a_file(recipe, server, rows, tmp_path):
    first, second = rows(2)
    [busy] = rows(1, status='creating')
    ids = [first, MISSING, busy, second]
    (tmp_path / 'ids.txt').write_text('\n'.join(ids) + '\n')

    result = recipe('delete-ids-in-a-file.sh')
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'exit status: 1'
    # One line per failure, from jq: the refused backup, with its reason.
    assert len(lines) == 2 and lines[1].startswith(
        busy + ' Invalid backup: Backup status must be available or error')
    record = json.loads((tmp_path / 'result.json').read_text())
    assert [r['ID'] for r in record] == ids
    assert [r['Result'] for r in record] == [
        'deleted', 'already-missing', 'failed', 'deleted']
    server.wait_gone(first)
    server.wait_gone(second)
    assert server.backup(busy)['status'] == 'creating'

    # Again: what is gone counts as done; the refusal stays a failure...
    again = recipe('delete-ids-in-a-file.sh')
    assert again.returncode == 1, again.stderr
    assert again.stdout.splitlines()[0] == 'exit status: 1'
    # ...until it is dealt with; then the same command exits 0.
    server.force_delete(busy)
    server.wait_gone(busy)
    done = recipe('delete-ids-in-a-file.sh')
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'exit status: 0\n'
    assert {r['Result'] for r in json.loads(
        (tmp_path / 'result.json').read_text())} == {'already-missing'}


def test_check_first(recipe, server, rows):
    named = rows(2)
    names = [server.backup(b)['name'] for b in named]
    [by_id] = rows(1, status='error')
    result = recipe('check-first.sh', *names, by_id)
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines()
             if line.startswith('| ') and 'would-delete' in line]
    assert len(table) == 3
    for backup in named + [by_id]:
        assert backup in result.stdout
    assert server.backup(named[0])['status'] == 'available'
    assert server.backup(named[1])['status'] == 'available'
    assert server.backup(by_id)['status'] == 'error'


def test_force_delete(recipe, server, rows):
    stuck = rows(1, status='creating') + rows(1, status='error_deleting')
    result = recipe('force-delete.sh', *stuck)
    assert result.returncode == 0, result.stderr
    for backup in stuck:
        server.wait_gone(backup)


def test_sequential(recipe, server, rows, tmp_path):
    backups = rows(5)
    (tmp_path / 'ids.txt').write_text('\n'.join(backups) + '\n')
    result = recipe('sequential.sh')
    assert result.returncode == 0, result.stderr
    for backup in backups:
        server.wait_gone(backup)


# -- the nightly prune, as cron runs it --------------------------------------

def cron_entry():
    """The one entry of the cron file: (five time fields, user, command).

    crontab(5): one entry a line (a trailing backslash does not continue
    it); blank lines, comments and NAME=value settings aside.
    """
    text = (RECIPES / 'vbs-prune.cron').read_text()
    assert text.endswith('\n')          # cron ignores an unended last line
    entries = [line for line in text.splitlines()
               if line.strip() and not line.lstrip().startswith('#')
               and not re.match(r'\s*[A-Za-z_][A-Za-z0-9_]*\s*=', line)]
    assert len(entries) == 1, entries
    [entry] = entries
    assert not entry.rstrip().endswith('\\')
    fields = entry.split(None, 6)
    assert len(fields) == 7, entry
    times, user, command = fields[:5], fields[5], fields[6]
    for field in times:
        assert re.fullmatch(r'[0-9*,/-]+', field), field
    assert re.fullmatch(r'[a-z_][a-z0-9_-]*', user), user
    return times, user, command


@pytest.fixture
def project(server, tmp_path):
    """A project of the test's own, and a home with a clouds.yaml for it.

    Returns (cloud name, HOME, a Server of the project). The admin user
    gets the member role there: the job runs as no admin. The project's
    backups are force-deleted afterwards, and the project too.
    """
    keystone = server.session
    user_id = keystone.get_user_id()
    name = 'recipes-' + _tag()
    project_id = keystone.post(KEYSTONE + '/projects', json={'project': {
        'name': name, 'domain_id': 'default'}}).json()['project']['id']
    [member] = keystone.get(KEYSTONE + '/roles?name=member').json()['roles']
    keystone.put(KEYSTONE + '/projects/%s/users/%s/roles/%s'
                 % (project_id, user_id, member['id']))
    home = tmp_path / 'home'
    (home / '.config' / 'openstack').mkdir(parents=True)
    clouds = home / '.config' / 'openstack' / 'clouds.yaml'
    clouds.write_text(yaml.safe_dump({'clouds': {'nightly': {
        'auth': {'auth_url': KEYSTONE, 'username': 'admin',
                 'password': server.password, 'project_name': name,
                 'user_domain_name': 'Default',
                 'project_domain_name': 'Default'},
        'region_name': 'RegionOne', 'identity_api_version': 3,
        'interface': 'public'}}}))
    clouds.chmod(0o600)
    theirs = ProjectServer(clouds, 'nightly')
    assert theirs.project_id == project_id
    try:
        yield 'nightly', home, theirs
    finally:
        # As admin: the project's own token may not force-delete.
        for backup in theirs.everything():
            server.force_delete(backup)
        keystone.delete(KEYSTONE + '/projects/' + project_id)


class ProjectServer(Server):
    """The project's own view of the server (its token, its backups)."""

    def __init__(self, clouds_yaml, cloud):
        region = os_config.OpenStackConfig(
            config_files=[str(clouds_yaml)]).get_one(cloud)
        self.session = region.get_session()
        self.project_id = self.session.get_project_id()
        self.base = '%s/v3/%s' % (CINDER, self.project_id)

    def everything(self):
        """{backup ID: status} of every backup of the project."""
        found, marker = {}, None
        while True:
            path = '/backups/detail?limit=100'
            if marker:
                path += '&marker=' + marker
            page = self._get(path)['backups']
            if not page:
                return found
            found.update((b['id'], b['status']) for b in page)
            marker = page[-1]['id']

    def status(self, backup_id):
        record = self.backup(backup_id)
        return record and record['status']


def seed(project_server, count, first, step, status='available'):
    volume = new_id()
    return volume, [row['id'] for row in cloud_tool(
        'seed-rows', '--count', str(count), '--name-prefix',
        'nightly-' + _tag(), '--volume-id', volume, '--status', status,
        '--created-at', first, '--step', str(step),
        '--project-id', project_server.project_id)]


def run_cron_command(home, log_dir, **settings):
    """Run the cron entry's command as cron would: /bin/sh -c, cron's
    environment, the wrapper at its documented place (here, the recipe).
    Only the documented settings are added (as the cron file may set
    them); OPENSTACK names the executable, as PATH cannot.
    """
    times, user, command = cron_entry()
    assert command.split()[0] == WRAPPER, command
    command = shlex.quote(str(RECIPES / 'vbs-prune.sh')) + \
        command[len(WRAPPER):]
    env = {'HOME': str(home), 'LOGNAME': getpass.getuser(),
           'SHELL': '/bin/sh', 'PATH': CRON_PATH,
           'OPENSTACK': OPENSTACK, 'LOG_DIR': str(log_dir)}
    env.update(settings)
    return subprocess.run(['/bin/sh', '-c', command], env=env, cwd=home,
                          capture_output=True, text=True, timeout=900)


def rows_of(log_dir):
    return {r['ID']: r for r in json.loads(
        (log_dir / 'prune.json').read_text())}


def test_the_cron_entry_runs_as_cron_runs_it(project, tmp_path):
    times, user, command = cron_entry()
    assert times == ['30', '4', '*', '*', '*'] and user == 'ops'
    assert command == WRAPPER            # the wrapper, by its absolute path
    cloud, home, server = project
    # Four weeks of nightlies (January 1 to 28, 2025) and a failed one.
    volume, nightly = seed(server, 28, '2025-01-01T02:00:00', DAY)
    [broken] = seed(server, 1, '2025-01-28T03:00:00', 0, status='error')[1]
    # The 7 newest days, and the newest of ISO weeks 2 to 5.
    kept = {nightly[day - 1] for day in (12, 19, 22, 23, 24, 25, 26, 27, 28)}
    logs = tmp_path / 'log'
    logs.mkdir()

    result = run_cron_command(home, logs, OS_CLOUD=cloud)
    assert result.returncode == 0, (result.stderr, _read(logs / 'prune.err'))
    assert (result.stdout, result.stderr) == ('', '')   # nothing to mail
    done = rows_of(logs)
    assert set(done) == set(nightly) | {broken}
    assert {b for b, r in done.items() if r['Action'] == 'keep'} == kept
    assert {done[b]['Result'] for b in set(nightly) - kept} == {'gone'}
    assert done[broken]['Action'] == 'skip'
    assert server.everything() == dict({b: 'available' for b in kept},
                                       **{broken: 'error'})
    err = _read(logs / 'prune.err').splitlines()
    assert re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} '
                        r'vbs-prune', err[0]), err
    # The summary is a warning: the log has it (openstack -q would not).
    assert err[-1].startswith('19 of 19 backups deleted, 9 kept'), err

    # The next night: nothing more to delete; the error log grows.
    again = run_cron_command(home, logs, OS_CLOUD=cloud)
    assert again.returncode == 0, again.stderr
    results = {r['Result'] for r in rows_of(logs).values()}
    assert results <= {'kept', 'skipped'}, results
    assert _read(logs / 'prune.err').count(' vbs-prune\n') == 2


def test_the_wrapper_says_what_stops_it_before_the_prune(tmp_path):
    home = tmp_path / 'home'
    home.mkdir()
    # A log directory the job cannot write: nothing runs, cron mails why.
    nowhere = tmp_path / 'no-such-dir'
    result = run_cron_command(home, nowhere, OS_CLOUD='nightly')
    assert result.returncode == 1
    assert result.stderr == 'vbs-prune: cannot write to %s\n' % nowhere
    # An OPENSTACK that is not there (cron's PATH would not help either).
    logs = tmp_path / 'log'
    logs.mkdir()
    result = run_cron_command(home, logs, OS_CLOUD='nightly',
                              OPENSTACK='/nonexistent/bin/openstack')
    assert result.returncode == 127
    assert result.stderr == 'vbs-prune: exit status 127, see %s\n' % (
        logs / 'prune.err')
    assert '/nonexistent/bin/openstack' in _read(logs / 'prune.err')


def test_the_time_limit_stops_the_prune_with_143(project, tmp_path):
    cloud, home, server = project
    # 800 hourly backups of one volume: most go, which takes longer than
    # the time limit.
    volume, hourly = seed(server, 800, '2025-03-01T00:00:00', 3600)
    plan = subprocess.run(
        [OPENSTACK, '--os-cloud', cloud, 'vbs', 'backup', 'prune',
         '--keep-daily', '7', '--keep-weekly', '4', '--dry-run', '-f',
         'json'], env={'HOME': str(home), 'PATH': CRON_PATH},
        capture_output=True, text=True, timeout=300)
    assert plan.returncode == 0, plan.stderr
    kept = {r['ID'] for r in json.loads(plan.stdout) if r['Action'] == 'keep'}
    assert 7 <= len(kept) <= 11
    logs = tmp_path / 'log'
    logs.mkdir()

    result = run_cron_command(home, logs, OS_CLOUD=cloud, TIME_LIMIT='8')
    err = _read(logs / 'prune.err')
    assert result.returncode == 143, (result.stderr, err)
    assert result.stderr == 'vbs-prune: exit status 143, see %s\n' % (
        logs / 'prune.err')
    assert 'aborting now' not in err       # one stop, not an abort
    on_server = server.everything()
    done = rows_of(logs)
    if done:
        assert 'Interrupted: ' in err, err
        assert set(done) == set(hourly)
        for backup, row in done.items():
            # Nothing reported deleted that the server still has
            # available, and nothing deleted that is not reported.
            deleted = row['Result'] in ('deleted', 'gone')
            assert deleted == (on_server.get(backup) != 'available'), row
        assert 'not-attempted' in {r['Result'] for r in done.values()}
    else:
        # Stopped while listing: nothing was deleted.
        assert 'Interrupted while listing the backups' in err, err
        assert on_server == {b: 'available' for b in hourly}

    # The next night's run, without the short limit, finishes the job.
    again = run_cron_command(home, logs, OS_CLOUD=cloud)
    assert again.returncode == 0, (again.stderr, _read(logs / 'prune.err'))
    for backup in set(hourly) - kept:
        server.wait_gone(backup)
    assert server.everything() == {b: 'available' for b in kept}


def _read(path):
    return path.read_text() if path.exists() else ''
