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

"""openstack vbs backup delete | list | show: parsing, output, exit status."""

import io
import json
import logging
import types

from osc_lib import exceptions
import pytest

from tests.fixtures import recorded
from tests.unit.conftest import A
from tests.unit.conftest import AUTH_URL
from tests.unit.conftest import B
from tests.unit.conftest import backup_url
from tests.unit.conftest import BACKUPS_URL
from tests.unit.conftest import C
from tests.unit.conftest import vbs_calls
from tests.unit.conftest import VOLUMES_URL
from vbsclient.api import deletion
from vbsclient.osc import backup
from vbsclient.osc import progress
from vbsclient.osc import prune


def make(command_class, client):
    app = types.SimpleNamespace(
        client_manager=types.SimpleNamespace(vbs=client),
        stdout=io.StringIO(), options=types.SimpleNamespace(debug=False))
    return command_class(app, None)


def run(command_class, client, argv):
    """Run a command as OSC would; return (status or exception, stdout)."""
    command = make(command_class, client)
    parsed = command.get_parser('openstack vbs backup').parse_args(argv)
    try:
        outcome = command.run(parsed)
    except exceptions.CommandError as exc:
        outcome = exc
    return outcome, command.app.stdout.getvalue()


def run_shell(command_class, client, argv):
    """Parse and run as the shell does: (exit status, stdout); a usage
    error is argparse's exit status 2.
    """
    try:
        return run(command_class, client, argv)
    except SystemExit as exc:
        return exc.code, ''


def errors_logged(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.ERROR]


# -- delete: parsing ----------------------------------------------------------

def test_delete_parser_defaults_and_options(client):
    parser = make(backup.DeleteBackup, client).get_parser('delete')
    options = parser.parse_args([A, B])
    assert options.backups == [A, B]
    assert (options.force, options.wait, options.timeout, options.parallel,
            options.ignore_missing, options.dry_run, options.formatter) == (
        False, False, 600, None, False, False, None)
    options = parser.parse_args(['--force', '--wait', '--timeout', '90',
                                 '--parallel', '1', '--ignore-missing',
                                 '--dry-run', '-f', 'json', A])
    assert (options.force, options.wait, options.timeout, options.parallel,
            options.ignore_missing, options.dry_run, options.formatter) == (
        True, True, 90, 1, True, True, 'json')


@pytest.mark.parametrize('command_class, argv', [
    (backup.DeleteBackup, [A]), (backup.ListBackup, []),
    (backup.ShowBackup, [A])])
def test_network_options_reach_the_client(client, cloud, command_class,
                                          argv):
    cloud.delete(backup_url(A), status_code=202)
    cloud.get(BACKUPS_URL + '/detail', json={'backups': []})
    cloud.get(backup_url(A), json={'backup': {'id': A}})
    status, _ = run(command_class, client, [
        '--retries', '0', '--connect-timeout', '2', '--read-timeout', '9',
        *argv])
    assert status == 0
    assert cloud.last_request.timeout == (2, 9)
    # The cloud's client is not changed: the next command starts afresh.
    assert (client.settings.connect_timeout,
            client.settings.read_timeout) == (10, 60)


@pytest.mark.parametrize('argv', [[], ['--timeout', '0', A],
                                  ['--timeout', 'soon', A],
                                  ['--parallel', '0', A],
                                  ['--parallel', '2.5', A],
                                  ['--timeout', 'nan', A],
                                  ['--read-timeout', 'inf', A],
                                  ['--read-timeout', 'nan', A],
                                  ['--connect-timeout', '-inf', A],
                                  ['--retries', '-1', A]])
def test_delete_parser_refuses_bad_usage(client, argv, capsys):
    with pytest.raises(SystemExit) as info:
        make(backup.DeleteBackup, client).get_parser('delete').parse_args(argv)
    assert info.value.code == 2


# -- delete: default (quiet) output -------------------------------------------

def test_success_is_quiet(client, cloud, caplog):
    cloud.delete(backup_url(A), status_code=202)
    with caplog.at_level(logging.INFO):
        status, out = run(backup.DeleteBackup, client, [A])
    assert (status, out) == (0, '')
    assert not caplog.records


def test_one_failure_of_three_is_reported_and_exits_non_zero(
        client, cloud, caplog):
    cloud.delete(backup_url(A), status_code=202)
    cloud.delete(backup_url(B), status_code=202)
    cloud.get(BACKUPS_URL + '?name=missing', json={'backups': []})
    error, out = run(backup.DeleteBackup, client, [A, 'missing', B])
    assert str(error) == '1 of 3 backups failed to delete.'
    assert out == ''
    assert errors_logged(caplog) == [
        "Failed to delete backup 'missing': No backup with name or ID "
        "'missing' exists."]
    assert [c.method for c in vbs_calls(cloud)].count('DELETE') == 2


def test_server_message_and_request_id_are_in_the_failure_line(
        client, cloud, caplog):
    cloud.delete(backup_url(C), status_code=400,
                 json=recorded.incremental_backups_exist(),
                 headers={'x-openstack-request-id': 'req-42'})
    # The chain: C, then an incremental backup of the same volume that is
    # not named, so C cannot be deleted in this run.
    full = recorded.backup(C, volume_id='v', has_dependent_backups=True,
                           created_at='2026-11-01T00:00:00',
                           data_timestamp='2026-11-01T00:00:00')
    incremental = recorded.backup(B, incremental=True, name='inc',
                                  volume_id='v',
                                  created_at='2026-11-02T00:00:00',
                                  data_timestamp='2026-11-02T00:00:00')
    cloud.get(backup_url(C), json={'backup': full})
    cloud.get(BACKUPS_URL + '/detail?volume_id=v',
              json=recorded.backup_list([incremental, full]))
    error, _ = run(backup.DeleteBackup, client, [C])
    assert str(error) == '1 of 1 backups failed to delete.'
    [line] = errors_logged(caplog)
    assert line.startswith(
        "Failed to delete backup '%s': Invalid backup: Incremental backups "
        "exist for this backup. (HTTP 400, request ID req-42)" % C)
    assert '%s (inc)' % B in line  # what keeps it from being deleted
    assert '--force' not in line  # it would not help


@pytest.mark.parametrize('bad', [' ', '', 'a\x1bb'])
def test_a_bad_argument_is_a_usage_error_and_nothing_is_sent(
        client, cloud, bad, capsys):
    status, _ = run_shell(backup.DeleteBackup, client, [A, bad])
    assert status == 2  # as any other usage error
    [line] = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith('openstack vbs backup: error: argument <backup>: ')
    assert ('empty or blank' in line or 'control characters' in line)
    assert '\x1b' not in line
    assert not cloud.request_history


# -- delete: structured output ------------------------------------------------

def test_json_output_has_one_row_per_backup_and_keeps_the_exit_status(
        client, cloud):
    cloud.delete(backup_url(A), status_code=202,
                 headers={'x-openstack-request-id': 'req-a'})
    cloud.delete(backup_url(B), status_code=404, json=recorded.not_found(B))
    cloud.get(backup_url(B), status_code=404, json=recorded.not_found(B))
    cloud.delete(backup_url(C), status_code=409, json={
        'conflictingRequest': {'message': 'busy'}})
    error, out = run(backup.DeleteBackup, client,
                     ['-f', 'json', '--ignore-missing', A, B, C])
    rows = json.loads(out)
    assert [(r['ID'], r['Result'], r['Request ID']) for r in rows] == [
        (A, 'deleted', 'req-a'), (B, 'already-missing', None),
        (C, 'failed', None)]
    assert 'busy (HTTP 409' in rows[2]['Reason']
    assert set(rows[0]) == {'ID', 'Name', 'Result', 'Reason', 'Request ID'}
    assert str(error) == '1 of 3 backups failed to delete.'


def test_ignore_missing_run_exits_zero_when_all_are_done(client, cloud):
    cloud.delete(backup_url(A), status_code=404, json=recorded.not_found(A))
    cloud.get(backup_url(A), status_code=404, json=recorded.not_found(A))
    status, _ = run(backup.DeleteBackup, client, ['--ignore-missing', A])
    assert status == 0


def test_value_output_for_scripts(client, cloud):
    cloud.delete(backup_url(A), status_code=202)
    status, out = run(backup.DeleteBackup, client,
                      ['-f', 'value', '-c', 'ID', '-c', 'Result', A])
    assert (status, out) == (0, '%s deleted\n' % A)


def test_dry_run_shows_a_table_and_sends_no_delete(client, cloud):
    cloud.get(backup_url(A), json={'backup': {'id': A, 'name': 'alpha'}})
    status, out = run(backup.DeleteBackup, client, ['--dry-run', A])
    assert status == 0
    assert 'would-delete' in out and 'alpha' in out and '+--' in out
    assert 'DELETE' not in [c.method for c in vbs_calls(cloud)]


def test_backups_from_standard_input(client, cloud, monkeypatch):
    monkeypatch.setattr('sys.stdin', io.StringIO(
        '# IDs from the list\n%s\n\n  %s  \n#%s\n' % (A, B, C)))
    for backup_id in (A, B, C):
        cloud.delete(backup_url(backup_id), status_code=202)
    status, _ = run(backup.DeleteBackup, client, ['-'])
    assert status == 0
    deleted = [c.url for c in vbs_calls(cloud) if c.method == 'DELETE']
    assert sorted(deleted) == [backup_url(A), backup_url(B)]


@pytest.mark.parametrize('stdin', ['', '# nothing found\n\n'])
def test_nothing_on_standard_input_is_said_on_stderr(
        client, cloud, monkeypatch, caplog, stdin):
    # A pipeline whose list failed or found nothing: no failure, but
    # not silent either.
    monkeypatch.setattr('sys.stdin', io.StringIO(stdin))
    with caplog.at_level(logging.WARNING):
        status, out = run(backup.DeleteBackup, client, ['-'])
    assert (status, out) == (0, '')
    assert [r.getMessage() for r in caplog.records] == [
        'no backups named on standard input']
    assert not vbs_calls(cloud)


def test_backups_on_standard_input_get_no_note(client, cloud, monkeypatch,
                                               caplog):
    monkeypatch.setattr('sys.stdin', io.StringIO(A + '\n'))
    cloud.delete(backup_url(A), status_code=202)
    with caplog.at_level(logging.WARNING):
        assert run(backup.DeleteBackup, client, ['-'])[0] == 0
    assert not caplog.records


def test_columns_without_a_format_print_a_table(client, cloud):
    cloud.delete(backup_url(A), status_code=202)
    status, out = run(backup.DeleteBackup, client, ['-c', 'Result', A])
    assert status == 0
    assert out.splitlines()[1] == '| Result  |'
    assert out.splitlines()[3] == '| deleted |'
    # Neither -f nor -c: quiet, like `openstack volume backup delete`.
    assert run(backup.DeleteBackup, client, [A]) == (0, '')


@pytest.mark.parametrize('command_class', [backup.DeleteBackup,
                                           prune.PruneBackup])
def test_format_help_says_what_happens_without_it(client, command_class):
    parser = make(command_class, client).get_parser('openstack vbs backup')
    text = ' '.join(parser.format_help().split())
    assert 'defaults to table' not in text
    assert 'without -f or -c, only failures' in text


@pytest.mark.parametrize('argv, message', [
    (['--parallel', '1.5', A], "'1.5' is not a positive integer"),
    (['--parallel', '0', A], "'0' is not a positive integer"),
    (['--timeout', '-1', A], "'-1' is not a positive number"),
    (['--retries', '-1', A], "'-1' is not an integer of at least 0"),
    (['--wait-interval', '0', A], "'0' is not a positive number"),
])
def test_numbers_are_refused_by_their_kind(client, cloud, capsys, argv,
                                           message):
    assert run_shell(backup.DeleteBackup, client, argv)[0] == 2
    assert message in capsys.readouterr().err


# -- progress -----------------------------------------------------------------

class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_drawn_on_a_terminal_for_long_runs_only():
    now = [0.0]
    stream = Terminal()
    bar = progress.Progress(stream=stream, clock=lambda: now[0])
    ok = deletion.Outcome(argument=A, result='deleted')
    bar.done(ok)
    assert stream.getvalue() == ''  # the first second stays quiet
    now[0] = 1.5
    bar.done(deletion.Outcome(argument=B, result='failed'))
    assert stream.getvalue().endswith('2 done, 1 failed')
    bar.close()
    assert stream.getvalue().endswith('\r\033[K')


def test_delete_takes_its_progress_line_off_the_terminal_at_the_end(
        client, cloud, monkeypatch):
    for backup_id in (A, B):
        cloud.delete(backup_url(backup_id), status_code=202)
    terminal = Terminal()
    monkeypatch.setattr('sys.stderr', terminal)
    monkeypatch.setattr(progress.Progress, 'FIRST_AFTER', 0)
    monkeypatch.setattr(progress.Progress, 'EVERY', 0)
    status, _ = run(backup.DeleteBackup, client, [A, B])
    assert status == 0
    assert '2 done, 0 failed' in terminal.getvalue()
    # The shell's prompt must not land after a stale progress line.
    assert terminal.getvalue().endswith('\r\033[K')


def test_no_progress_when_stderr_is_not_a_terminal():
    now = [5.0]
    stream = io.StringIO()
    bar = progress.Progress(stream=stream, clock=lambda: now[0])
    now[0] = 100
    bar.done(deletion.Outcome(argument=A, result='deleted'))
    bar.waiting(3)
    bar.close()
    assert stream.getvalue() == ''


# -- list and show ------------------------------------------------------------

VOLUME = '44444444-4444-4444-8444-444444444444'
OTHER_VOLUME = '55555555-5555-4555-8555-555555555555'
PROJECT = '0123456789abcdef0123456789abcdef'


def _backup(n, **fields):
    """Backup number n, a record as Cinder's detailed list holds it."""
    return recorded.backup('id-%d' % n, name='b%d' % n, **fields)


def _pages(cloud, query, backups, per_page):
    """Serve backups in pages of per_page, linked as Cinder links them,
    for a list whose query string starts with `query`.
    """
    base = BACKUPS_URL + '/detail?' + query
    for start in range(0, len(backups), per_page):
        page = backups[start:start + per_page]
        marker = '&marker=%s' % backups[start - 1]['id'] if start else ''
        following = base + '&marker=%s' % page[-1]['id']
        cloud.get(base + marker, complete_qs=True, json=recorded.backup_list(
            page, next_href=following if len(page) == per_page else None))
    if len(backups) % per_page == 0:  # a full last page: one more, empty
        cloud.get(base + '&marker=%s' % backups[-1]['id'], complete_qs=True,
                  json=recorded.backup_list([]))


def _listed(cloud):
    """The query of each backup list request, in order."""
    return [r.qs for r in vbs_calls(cloud) if r.path.endswith('/detail')]


def test_list_has_the_columns_of_openstack_volume_backup_list(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list(
        [_backup(1, volume_id=VOLUME)]))
    _, out = run(backup.ListBackup, client, ['-f', 'json'])
    [row] = json.loads(out)
    assert list(row) == ['ID', 'Name', 'Description', 'Status', 'Size',
                         'Incremental', 'Created At']
    _, out = run(backup.ListBackup, client, ['--long', '-f', 'json'])
    [row] = json.loads(out)
    assert list(row)[7:] == ['Availability Zone', 'Volume', 'Container']
    assert (row['Volume'], row['Availability Zone']) == (VOLUME, 'nova')


def test_incremental_column_shows_cinders_is_incremental(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list(
        [_backup(2, incremental=True), _backup(1)]))
    _, out = run(backup.ListBackup, client, ['-f', 'json'])
    assert [(r['ID'], r['Incremental']) for r in json.loads(out)] == [
        ('id-2', True), ('id-1', False)]
    _, out = run(backup.ListBackup, client,
                 ['-f', 'value', '-c', 'Incremental'])
    assert out == 'True\nFalse\n'


def test_list_follows_pages_and_filters(client, cloud):
    _pages(cloud, 'status=error&volume_id=%s' % VOLUME,
           [_backup(n, status='error', volume_id=VOLUME) for n in (1, 2)],
           per_page=1)
    status, out = run(backup.ListBackup, client,
                      ['--status', 'error', '--volume', VOLUME, '-f', 'json'])
    assert status == 0
    assert [r['ID'] for r in json.loads(out)] == ['id-1', 'id-2']
    # A volume ID is used as it is: no volume lookup.
    assert not [r for r in vbs_calls(cloud) if '/volumes' in r.path]
    assert len(_listed(cloud)) == 3  # Cinder's last page is empty


def test_a_volume_name_is_looked_up_in_the_volumes(client, cloud):
    cloud.get(VOLUMES_URL + '?name=db', complete_qs=True,
              json=recorded.volume_list([(VOLUME, 'db'),
                                         (OTHER_VOLUME, 'db-old')]))
    cloud.get(BACKUPS_URL + '/detail?volume_id=' + VOLUME, complete_qs=True,
              json=recorded.backup_list([_backup(1, volume_id=VOLUME)]))
    status, out = run(backup.ListBackup, client,
                      ['--volume', 'db', '-f', 'value', '-c', 'ID'])
    assert (status, out) == (0, 'id-1\n')


@pytest.mark.parametrize('volumes, expected', [
    ([], "No volume with name or ID 'db' exists."),
    ([(VOLUME, 'db'), (OTHER_VOLUME, 'db')],
     "2 volumes are named 'db' (%s, %s): name one by its ID."
     % (VOLUME, OTHER_VOLUME)),
])
def test_a_volume_name_must_match_one_volume(client, cloud, volumes,
                                             expected):
    cloud.get(VOLUMES_URL, json=recorded.volume_list(volumes))
    error, out = run(backup.ListBackup, client, ['--volume', 'db'])
    assert (str(error), out) == (expected, '')
    assert not _listed(cloud)


def test_an_endpoint_without_volumes_says_to_name_the_volume_by_id(
        client, cloud):
    cloud.get(VOLUMES_URL, status_code=404, json={
        'error_code': 'APIGW.0101', 'error_msg': 'No such API.'})
    error, _ = run(backup.ListBackup, client, ['--volume', 'db'])
    assert str(error) == (
        "The volume name 'db' could not be looked up: No such API. "
        "(HTTP 404, code APIGW.0101). Name the volume by its ID.")
    assert not _listed(cloud)


def test_a_marker_name_is_looked_up_as_a_backup(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', complete_qs=True,
              json=recorded.backup_list([recorded.summary(
                  recorded.backup(A, name='nightly'))]))
    cloud.get(BACKUPS_URL + '/detail?marker=' + A, complete_qs=True,
              json=recorded.backup_list([_backup(1)]))
    status, out = run(backup.ListBackup, client,
                      ['--marker', 'nightly', '-f', 'value', '-c', 'ID'])
    assert (status, out) == (0, 'id-1\n')
    # An ID is used as it is.
    run(backup.ListBackup, client, ['--marker', A])
    assert [r.qs for r in vbs_calls(cloud)][-1] == {'marker': [A.lower()]}


def test_a_marker_that_names_no_backup_is_one_error(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json=recorded.backup_list([]))
    error, _ = run(backup.ListBackup, client, ['--marker', 'nightly'])
    assert str(error) == "No backup with name or ID 'nightly' exists."


BACKUPS = [_backup(n) for n in range(1, 8)]


@pytest.mark.parametrize('argv, per_page, pages, listed', [
    # OSC's meanings: --limit the page size, --max-items the total.
    ([], 3, [{}, {'marker': 'id-3'}, {'marker': 'id-6'}], 7),
    # --limit alone: every page followed, as in `openstack volume backup
    # list` (and no warning: there is no other meaning to warn of).
    (['--limit', '3'], 3, [{'limit': '3'}, {'limit': '3', 'marker': 'id-3'},
                           {'limit': '3', 'marker': 'id-6'}], 7),
    (['--limit', '3', '--max-items', '7'], 3,
     [{'limit': '3'}, {'limit': '3', 'marker': 'id-3'},
      {'limit': '3', 'marker': 'id-6'}], 7),
    (['--limit', '2', '--max-items', '3'], 2,
     [{'limit': '2'}, {'limit': '2', 'marker': 'id-2'}], 3),
    # A total alone is also the page size (as in openstacksdk).
    (['--max-items', '4'], 4, [{'limit': '4'}], 4),
])
def test_limit_is_the_page_size_and_max_items_the_total(
        client, cloud, argv, per_page, pages, listed):
    if argv:
        _pages(cloud, 'limit=%d' % per_page, BACKUPS, per_page)
    else:  # the server's own page size, as Cinder's osapi_max_limit
        cloud.get(BACKUPS_URL + '/detail', complete_qs=True,
                  json=recorded.backup_list(BACKUPS[:3], 'x?marker=id-3'))
        cloud.get(BACKUPS_URL + '/detail?marker=id-3', complete_qs=True,
                  json=recorded.backup_list(BACKUPS[3:6], 'x?marker=id-6'))
        cloud.get(BACKUPS_URL + '/detail?marker=id-6', complete_qs=True,
                  json=recorded.backup_list(BACKUPS[6:]))
    status, out = run(backup.ListBackup, client,
                      argv + ['-f', 'value', '-c', 'ID'])
    assert status == 0
    assert out.split() == ['id-%d' % n for n in range(1, listed + 1)]
    # No page is fetched beyond the one that completes the total.
    assert _listed(cloud) == [{k: [v] for k, v in page.items()}
                              for page in pages]


@pytest.mark.parametrize('argv', [
    ['--limit', '0'], ['--max-items', '0'], ['--max-items', '-1'],
    ['--volume', ''], ['--volume', ' '], ['--marker', ''],
    ['--project', ''], ['--name', ''], ['--name', ' '], ['--status', ''],
    ['--status', 'bogus'], ['--status', 'Available'], ['--limit', '1.5']])
def test_list_parser_refuses_bad_usage(client, cloud, argv, capsys):
    # An unset shell variable or a typo must not widen a filter to every
    # backup, nor narrow it to none with exit status 0.
    status, _ = run_shell(backup.ListBackup, client, argv)
    assert status == 2
    [line] = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith('openstack vbs backup: error: argument ')
    assert not cloud.request_history


@pytest.mark.parametrize('status', backup.ListBackup.STATUSES)
def test_status_takes_each_of_the_apis_statuses(client, cloud, status):
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list([]))
    assert run(backup.ListBackup, client, ['--status', status])[0] == 0
    assert _listed(cloud) == [{'status': [status]}]


def test_all_projects_and_a_project_id_as_osc_sends_them(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list([]))
    run(backup.ListBackup, client, ['--all-projects'])
    run(backup.ListBackup, client, ['--project', PROJECT])
    assert _listed(cloud) == [
        {'all_tenants': ['1']},
        {'all_tenants': ['1'], 'project_id': [PROJECT]}]
    # A project ID costs no request to Keystone.
    assert not [r for r in cloud.request_history if 'projects' in r.path]


def _keystone(cloud, **answer):
    # Keystone from the catalog: no version discovery request either.
    cloud.get(AUTH_URL + '/projects', **answer)


def test_a_project_name_is_looked_up_in_keystone(client, cloud):
    _keystone(cloud, json=recorded.project_list([(PROJECT, 'ops')]))
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list([]))
    status, _ = run(backup.ListBackup, client, ['--project', 'ops'])
    assert status == 0
    [lookup] = [r for r in cloud.request_history
                if r.path.endswith('/projects')]
    assert lookup.qs == {'name': ['ops']}
    assert _listed(cloud) == [{'all_tenants': ['1'],
                               'project_id': [PROJECT]}]


@pytest.mark.parametrize('answer, expected', [
    ({'json': recorded.project_list([])},
     "No project with name or ID 'ops' exists (or you may not list "
     "projects)."),
    ({'json': recorded.project_list([(PROJECT, 'ops'), (PROJECT[::-1],
                                                        'ops')])},
     "2 projects are named 'ops'"),
    ({'status_code': 403, 'json': {'error': {
        'code': 403, 'title': 'Forbidden',
        'message': 'You are not authorized to perform the requested '
                   'action: identity:list_projects.'}}},
     "The project name 'ops' could not be looked up: You are not "
     "authorized to perform the requested action: identity:list_projects. "
     "(HTTP 403). Name the project by its ID."),
])
def test_a_project_name_must_match_one_project(client, cloud, answer,
                                               expected):
    _keystone(cloud, **answer)
    error, _ = run(backup.ListBackup, client, ['--project', 'ops'])
    assert str(error).startswith(expected)
    assert not _listed(cloud)


def test_a_list_error_is_one_line_without_delete_hints(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', status_code=400, json={'badRequest': {
        'message': 'Invalid input received: marker not found', 'code': 400}})
    error, _ = run(backup.ListBackup, client, [])
    assert str(error).startswith('Invalid input received: marker not found '
                                 '(HTTP 400)')
    assert '--force' not in str(error)


def test_empty_fields_are_empty_in_line_formats_and_null_in_json(
        client, cloud):
    # Cinder sends null for a backup without description.
    record = _backup(1, description=None)
    cloud.get(BACKUPS_URL + '/detail', json=recorded.backup_list([record]))
    cloud.get(backup_url(A), json={'backup': recorded.backup(
        A, description=None)})
    _, out = run(backup.ListBackup, client,
                 ['-f', 'value', '-c', 'ID', '-c', 'Description',
                  '-c', 'Status'])
    assert out == 'id-1  available\n'
    _, out = run(backup.ListBackup, client, ['-f', 'csv', '-c',
                                             'Description'])
    assert out.splitlines()[1] == '""'
    _, out = run(backup.ListBackup, client, [])
    assert 'None' not in out
    _, out = run(backup.ListBackup, client, ['-f', 'json'])
    assert json.loads(out)[0]['Description'] is None
    _, out = run(backup.ShowBackup, client, [A, '-c', 'description',
                                             '-f', 'value'])
    assert out == '\n'
    _, out = run(backup.ShowBackup, client, [A, '-f', 'json'])
    assert json.loads(out)['description'] is None


def test_empty_fields_of_delete_rows_are_empty(client, cloud):
    cloud.delete(backup_url(A), status_code=202)  # no request ID header
    _, out = run(backup.DeleteBackup, client,
                 ['-f', 'value', '-c', 'ID', '-c', 'Name', '-c', 'Reason',
                  '-c', 'Request ID', '-c', 'Result', A])
    assert out == '%s  deleted  \n' % A  # cliff keeps the column order
    _, out = run(backup.DeleteBackup, client, ['-f', 'json', A])
    [row] = json.loads(out)
    assert (row['Name'], row['Reason'], row['Request ID']) == (None,) * 3


def test_show_by_name(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json=recorded.backup_list(
        [recorded.summary(recorded.backup(A, name='nightly'))]))
    record = recorded.backup(A, name='nightly')
    cloud.get(backup_url(A), json={'backup': record})
    status, out = run(backup.ShowBackup, client, ['nightly', '-f', 'json'])
    assert status == 0
    del record['links']
    assert json.loads(out) == record


# -- hostile input and the interactive shell ----------------------------------

def test_stdin_lines_bom_and_bytes_that_are_not_utf8():
    stream = io.BytesIO(b'\xef\xbb\xbf' + A.encode() + b'\r\n\n# note\n'
                        b'caf\xe9\n\xef\xbb\xbflater-bom\n')
    lines = list(backup._lines(stream))
    assert lines[0] == A  # the byte order mark at the start is dropped
    assert lines[1] == 'caf\udce9'  # kept, to fail as not UTF-8
    assert lines[2] == '\ufefflater-bom'  # only the first one is a BOM


def test_dash_is_refused_in_the_interactive_shell(client, cloud):
    command = make(backup.DeleteBackup, client)
    command.app.interactive_mode = True
    parsed = command.get_parser('delete').parse_args(['-'])
    with pytest.raises(exceptions.CommandError) as info:
        command.run(parsed)
    assert 'interactive shell' in str(info.value)
    assert not cloud.request_history


def test_line_formats_escape_json_is_exact(client, cloud):
    name = 'a\x1b[2Jb\nc'
    cloud.get(BACKUPS_URL + '/detail', json={'backups': [
        {'id': A, 'name': name, 'status': 'available'}]})
    _, out = run(backup.ListBackup, client, ['-f', 'value', '-c', 'Name'])
    assert out == 'a\\x1b[2Jb\\nc\n'
    _, out = run(backup.ListBackup, client, ['-f', 'json', '-c', 'Name'])
    assert json.loads(out) == [{'Name': name}]


def test_api_errors_of_list_and_show_are_one_escaped_line(client, cloud):
    cloud.get(BACKUPS_URL + '/detail', status_code=500, json={
        'computeFault': {'message': 'boom\x1b]0;title\x07', 'code': 500}})
    error, _ = run(backup.ListBackup, client, [])
    assert isinstance(error, exceptions.CommandError)
    assert '\x1b' not in str(error) and 'boom\\x1b]0;title' in str(error)


@pytest.mark.parametrize('command_class, argv', [
    (backup.DeleteBackup, ['--wait-interval', '0.5', A]),
    (prune.PruneBackup, ['--wait-interval', '0.5', '--keep-last', '1'])])
def test_the_wait_interval_is_the_runs(client, command_class, argv):
    command = make(command_class, client)
    parsed = command.get_parser('openstack vbs backup').parse_args(argv)
    assert command._new_run(parsed).interval == 0.5
    parsed = command.get_parser('openstack vbs backup').parse_args(argv[2:])
    assert command._new_run(parsed).interval == 2.0
