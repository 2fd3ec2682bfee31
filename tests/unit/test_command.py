"""openstack vbs backup delete | list | show: parsing, output, exit status."""

import io
import json
import logging
import types

import pytest
from osc_lib import exceptions

from vbsclient.api import deletion
from vbsclient.osc import backup
from vbsclient.osc import progress
from tests.unit.conftest import BACKUPS_URL, backup_url, vbs_calls

A = '11111111-1111-4111-8111-111111111111'
B = '22222222-2222-4222-8222-222222222222'
C = '33333333-3333-4333-8333-333333333333'
NOT_FOUND = {'itemNotFound': {'message': 'Backup could not be found.',
                              'code': 404}}


def make(command_class, client):
    app = types.SimpleNamespace(
        client_manager=types.SimpleNamespace(vbs=client),
        stdout=io.StringIO(), options=types.SimpleNamespace(debug=False))
    return command_class(app, None)


def run(command_class, client, argv):
    """Run a command as OSC would; return (exit status or exception, stdout)."""
    command = make(command_class, client)
    parsed = command.get_parser('openstack vbs backup').parse_args(argv)
    try:
        outcome = command.run(parsed)
    except exceptions.CommandError as exc:
        outcome = exc
    return outcome, command.app.stdout.getvalue()


def errors_logged(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# -- delete: parsing ------------------------------------------------------------

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
    assert (client.connect_timeout, client.read_timeout) == (10, 60)


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


# -- delete: default (quiet) output ----------------------------------------------

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
    cloud.delete(backup_url(C), status_code=400, json={'badRequest': {
        'message': 'Incremental backups exist for this backup.',
        'code': 400}}, headers={'x-openstack-request-id': 'req-42'})
    # The chain: C, then an incremental backup of the same volume that is
    # not named, so C cannot be deleted in this run.
    cloud.get(backup_url(C), json={'backup': {
        'id': C, 'volume_id': 'v', 'created_at': '2026-11-01T00:00:00'}})
    cloud.get(BACKUPS_URL + '/detail?volume_id=v', json={'backups': [
        {'id': C, 'volume_id': 'v', 'created_at': '2026-11-01T00:00:00'},
        {'id': B, 'name': 'inc', 'is_incremental': True, 'volume_id': 'v',
         'created_at': '2026-11-02T00:00:00'}]})
    error, _ = run(backup.DeleteBackup, client, [C])
    assert str(error) == '1 of 1 backups failed to delete.'
    [line] = errors_logged(caplog)
    assert line.startswith(
        "Failed to delete backup '%s': Incremental backups exist for this "
        "backup. (HTTP 400, request ID req-42)" % C)
    assert '%s (inc)' % B in line  # what keeps it from being deleted
    assert '--force' not in line  # it would not help


@pytest.mark.parametrize('bad', [' ', '', 'a\x1bb'])
def test_a_bad_argument_is_one_clear_error_and_nothing_is_sent(
        client, cloud, bad):
    error, _ = run(backup.DeleteBackup, client, [A, bad])
    assert isinstance(error, exceptions.CommandError)
    assert ('empty or blank' in str(error)
            or 'control characters' in str(error))
    assert not cloud.request_history


# -- delete: structured output ---------------------------------------------------

def test_json_output_has_one_row_per_backup_and_keeps_the_exit_status(
        client, cloud):
    cloud.delete(backup_url(A), status_code=202,
                 headers={'x-openstack-request-id': 'req-a'})
    cloud.delete(backup_url(B), status_code=404, json=NOT_FOUND)
    cloud.get(backup_url(B), status_code=404, json=NOT_FOUND)
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
    cloud.delete(backup_url(A), status_code=404, json=NOT_FOUND)
    cloud.get(backup_url(A), status_code=404, json=NOT_FOUND)
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


# -- progress --------------------------------------------------------------------

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


# -- list and show ----------------------------------------------------------------

def _backup(n, **fields):
    record = {'id': 'id-%d' % n, 'name': 'b%d' % n, 'status': 'available',
              'size': 1, 'volume_id': 'vol', 'links': []}
    record.update(fields)
    return record


def test_list_follows_pages_and_filters(client, cloud):
    cloud.get(BACKUPS_URL + '/detail?status=error&volume_id=vol',
              complete_qs=True, json={
                  'backups': [_backup(1)],
                  'backups_links': [{'rel': 'next', 'href': BACKUPS_URL +
                                     '/detail?status=error&volume_id=vol'
                                     '&marker=id-1'}]})
    cloud.get(BACKUPS_URL + '/detail?status=error&volume_id=vol&marker=id-1',
              complete_qs=True, json={'backups': [_backup(2)]})
    status, out = run(backup.ListBackup, client,
                      ['--status', 'error', '--volume', 'vol', '-f', 'json'])
    assert status == 0
    rows = json.loads(out)
    assert [r['ID'] for r in rows] == ['id-1', 'id-2']
    assert set(rows[0]) == {'ID', 'Name', 'Status', 'Size', 'Volume ID'}


def test_list_limit_and_long(client, cloud):
    cloud.get(BACKUPS_URL + '/detail?limit=2&marker=m', complete_qs=True,
              json={'backups': [_backup(1, incremental=True), _backup(2),
                                _backup(3)]})
    status, out = run(backup.ListBackup, client,
                      ['--limit', '2', '--marker', 'm', '--long', '-f',
                       'json'])
    rows = json.loads(out)
    assert [r['ID'] for r in rows] == ['id-1', 'id-2']
    assert rows[0]['Incremental'] is True
    assert 'Created At' in rows[0]


def test_show_by_name(client, cloud):
    cloud.get(BACKUPS_URL + '?name=nightly', json={'backups': [
        {'id': A, 'name': 'nightly'}]})
    cloud.get(backup_url(A), json={'backup': {
        'id': A, 'name': 'nightly', 'status': 'available', 'links': []}})
    status, out = run(backup.ShowBackup, client, ['nightly', '-f', 'json'])
    assert status == 0
    assert json.loads(out) == {'id': A, 'name': 'nightly',
                               'status': 'available'}


# -- hostile input and the interactive shell -------------------------------------

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


def test_the_cli_adds_option_hints_the_api_layer_leaves_out(
        client, cloud, caplog):
    cloud.delete(backup_url(C), status_code=400, json={'badRequest': {
        'message': 'Backup status must be available or error', 'code': 400}})
    run(backup.DeleteBackup, client, [C])
    [line] = errors_logged(caplog)
    assert '--force deletes a backup in another status' in line
    caplog.clear()
    cloud.post(backup_url(C) + '/action', status_code=400, json={
        'badRequest': {'message': 'no', 'code': 400}})
    run(backup.DeleteBackup, client, ['--force', C])
    assert errors_logged(caplog)
    assert not any('--force deletes' in line
                   for line in errors_logged(caplog))
