"""openstack vbs backup delete: parsing, reporting, exit status."""

import logging
import types

import pytest
from osc_lib import exceptions

from vbsclient.osc import backup
from tests.unit.conftest import BACKUPS_URL, backup_url, vbs_calls

A = '11111111-1111-4111-8111-111111111111'
B = '22222222-2222-4222-8222-222222222222'
C = '33333333-3333-4333-8333-333333333333'


def make_command(client):
    app = types.SimpleNamespace(
        client_manager=types.SimpleNamespace(vbs=client))
    return backup.DeleteBackup(app, None)


def run(client, argv):
    command = make_command(client)
    parsed = command.get_parser('openstack vbs backup delete').parse_args(argv)
    return command.take_action(parsed)


def test_parser_defaults_and_options(client):
    parser = make_command(client).get_parser('delete')
    options = parser.parse_args([A, B])
    assert options.backups == [A, B]
    assert (options.force, options.wait, options.timeout) == (
        False, False, 600)
    options = parser.parse_args(['--force', '--wait', '--timeout', '90', A])
    assert (options.force, options.wait, options.timeout) == (True, True, 90)


@pytest.mark.parametrize('argv', [[], ['--timeout', '0', A],
                                  ['--timeout', 'soon', A]])
def test_parser_refuses_bad_usage(client, argv, capsys):
    with pytest.raises(SystemExit) as info:
        make_command(client).get_parser('delete').parse_args(argv)
    assert info.value.code == 2


def test_success_is_quiet(client, cloud, caplog):
    cloud.delete(backup_url(A), status_code=202)
    with caplog.at_level(logging.INFO):
        assert run(client, [A]) is None
    assert not caplog.records


def test_one_failure_of_three_is_reported_and_exits_non_zero(
        client, cloud, caplog):
    cloud.delete(backup_url(A), status_code=202)
    cloud.delete(backup_url(B), status_code=202)
    cloud.get(BACKUPS_URL + '?name=missing', json={'backups': []})
    with pytest.raises(exceptions.CommandError) as info:
        run(client, [A, 'missing', B])
    assert str(info.value) == '1 of 3 backups failed to delete.'
    errors = [r.getMessage() for r in caplog.records
              if r.levelno == logging.ERROR]
    assert errors == ["Failed to delete backup 'missing': No backup with "
                      "name or ID 'missing' exists."]
    assert [c.method for c in vbs_calls(cloud)].count('DELETE') == 2


def test_server_message_and_request_id_are_in_the_failure_line(
        client, cloud, caplog):
    cloud.delete(backup_url(C), status_code=400, json={'badRequest': {
        'message': 'Incremental backups exist for this backup.',
        'code': 400}}, headers={'x-openstack-request-id': 'req-42'})
    with pytest.raises(exceptions.CommandError) as info:
        run(client, [C])
    assert str(info.value) == '1 of 1 backups failed to delete.'
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith(
        "Failed to delete backup '%s': Incremental backups exist for this "
        "backup. (HTTP 400, request ID req-42)" % C)


def test_a_blank_argument_is_one_clear_error_and_nothing_is_sent(
        client, cloud):
    with pytest.raises(exceptions.CommandError) as info:
        run(client, [A, ' '])
    assert 'empty or blank' in str(info.value)
    assert not cloud.request_history
