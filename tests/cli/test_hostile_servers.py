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

"""The guarantees (doc/source/guarantees.rst) against servers that try to
break them.

The real `openstack` executable (or, where a knob is needed, the API
client) over real HTTP against FakeCloud made to misbehave as gateways,
proxies, captive portals and mistyped endpoints do (tests/cli/hostile.py).
Each test names the guarantee it proves.
"""

import json
import os
import re
import socket
import subprocess
import time
import uuid

import pytest

from tests.cli.fake_cloud import FakeCloud
from tests.cli.fake_cloud import PROJECT_ID
from tests.cli import hostile
from tests.cli.test_openstack_shell import OPENSTACK

# Raw terminal controls: C0 (but newline), DEL and C1.
RAW_CONTROLS = re.compile('[\x00-\x09\x0b-\x1f\x7f-\x9f]')


@pytest.fixture
def cloud(tmp_path):
    with FakeCloud() as cloud:
        cloud.tmp_path = tmp_path
        yield cloud


def openstack(cloud, *argv, stdin=None, env=None, settings=None,
              timeout=120):
    """Run the real executable; return the CompletedProcess plus .seconds
    and (with -f json) .rows.
    """
    config = cloud.tmp_path / 'clouds.yaml'
    config.write_text(cloud.clouds_yaml(**(settings or {})))
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith('OS_')}
    environment['OS_CLIENT_CONFIG_FILE'] = str(config)
    environment.update(env or {})
    started = time.monotonic()
    result = subprocess.run(
        [OPENSTACK, '--os-cloud', 'fake', *argv], capture_output=True,
        input=stdin if isinstance(stdin, bytes) else
        (stdin or '').encode(), env=environment, timeout=timeout)
    result.seconds = time.monotonic() - started
    result.stdout = result.stdout.decode('utf-8', 'replace')
    result.stderr = result.stderr.decode('utf-8', 'replace')
    result.rows = json.loads(result.stdout) if '-f' in argv and \
        argv[argv.index('-f') + 1] == 'json' and result.stdout else None
    assert 'Traceback' not in result.stderr, result.stderr
    return result


def deletes(cloud):
    return [r for r in cloud.vbs_requests() if r[0] == 'DELETE']


def on(method, answer, path_part='/backups'):
    """A misbehave hook: `answer` for VBS requests of this method."""
    def misbehave(request_method, path):
        if request_method == method and path.startswith('/vbs/') \
                and path_part in path:
            return answer
        return None
    return misbehave


# -- 1. redirects: never followed, never success ------------------------------

@pytest.mark.parametrize('status', [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_and_nothing_reaches_its_location(cloud,
                                                                status):
    backup = cloud.add_backup('redirected')
    with hostile.Recorder() as elsewhere:
        cloud.misbehave = on('DELETE', hostile.Redirect(
            status, elsewhere.url + '/steal'))
        result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                           '-f', 'json')
        time.sleep(0.2)
    assert result.returncode == 1
    [row] = result.rows
    assert row['Result'] == 'failed'
    assert 'redirect to host' in row['Reason']
    assert 'localhost:%d' % elsewhere.port in row['Reason']
    assert 'probably wrong' in row['Reason']
    assert elsewhere.requests == []  # no DELETE, no token went there
    assert backup in cloud.backups
    assert len(deletes(cloud)) == 1  # a redirect is not retried


@pytest.mark.parametrize('answer', [
    hostile.Redirect(300), hostile.Redirect(304),
    hostile.Redirect(307, '/vbs/v3/%s/backups/loop' % PROJECT_ID)],
    ids=['300-bare', '304-bare', 'loop'])
def test_bare_redirects_and_loops_are_failures(cloud, answer):
    backup = cloud.add_backup('looping')
    cloud.misbehave = on('DELETE', answer)
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup)
    assert result.returncode == 1
    assert 'redirect' in result.stderr
    assert result.stderr.strip().endswith('1 of 1 backups failed to delete.')
    assert len(deletes(cloud)) == 1


# -- 2. a wrong endpoint is not "already gone" --------------------------------

def wrong_endpoint(cloud):
    # Every URL under it answers 404 (FakeCloud's "No such path").
    return {'OS_VBS_ENDPOINT_OVERRIDE':
            cloud.url + '/nothing/v3/%(project_id)s'}


def test_ignore_missing_on_a_wrong_endpoint_is_a_failure(cloud):
    backups = [cloud.add_backup('b%d' % n) for n in range(3)]
    result = openstack(cloud, 'vbs', 'backup', 'delete', '--ignore-missing',
                       *backups, '-f', 'json', env=wrong_endpoint(cloud))
    assert result.returncode == 1
    assert [r['Result'] for r in result.rows] == ['failed'] * 3
    for row in result.rows:
        assert 'does not look like the backup API' in row['Reason']
    assert '3 of 3 backups failed to delete.' in result.stderr
    # One probe for the whole run, not one per backup.
    probes = [r for r in cloud.requests if 'limit=1' in r[1]]
    assert len(probes) == 1


def test_dry_run_on_a_wrong_endpoint_is_a_failure(cloud):
    backup = cloud.add_backup('dry')
    result = openstack(cloud, 'vbs', 'backup', 'delete', '--dry-run',
                       '--ignore-missing', backup, '-f', 'json',
                       env=wrong_endpoint(cloud))
    assert result.returncode == 1
    assert result.rows[0]['Result'] == 'failed'


def test_wait_does_not_take_a_gateways_404_for_gone(cloud):
    # DELETE is accepted, but every GET meets a gateway's 404 page.
    backup = cloud.add_backup('waited')
    gateway_404 = hostile.Raw(404, {'error_code': 'APIGW.0101',
                                    'error_msg': 'The API does not exist.'})
    cloud.misbehave = on('GET', gateway_404)
    result = openstack(cloud, 'vbs', 'backup', 'delete', '--wait',
                       '--timeout', '2', backup, '-f', 'json')
    assert result.returncode == 1
    [row] = result.rows
    assert row['Result'] == 'failed'
    assert 'The API does not exist' in row['Reason']


def test_the_apis_own_404_still_means_already_missing(cloud):
    missing = str(uuid.uuid4())
    result = openstack(cloud, 'vbs', 'backup', 'delete', '--ignore-missing',
                       missing, '-f', 'json')
    assert result.returncode == 0, result.stderr
    assert result.rows[0]['Result'] == 'already-missing'


# -- 3. a malformed answer is one backup's failure ----------------------------

def test_malformed_answers_end_in_rows_and_a_summary(cloud):
    portal, empty, nested = (cloud.add_backup(n) for n in
                             ('portal', 'empty', 'nested'))
    cloud.add_backup('listed')
    answers = {
        portal: hostile.html_page(200),
        empty: hostile.Raw(200, {'backup': []}),
        nested: hostile.Raw(500, b'[' * 100000 + b']' * 100000),
    }

    def misbehave(method, path):
        if method == 'GET' and '/backups/' in path:
            return answers.get(path.rsplit('/', 1)[1])
        if method == 'GET' and 'name=listed' in path:
            return hostile.Raw(200, {'backups': 'abc'})
        return None
    cloud.misbehave = misbehave
    result = openstack(cloud, 'vbs', 'backup', 'delete', '--dry-run',
                       portal, empty, nested, 'listed', '-f', 'json')
    assert result.returncode == 1
    assert [r['Result'] for r in result.rows] == ['failed'] * 4
    reasons = [r['Reason'] for r in result.rows]
    assert 'text/html' in reasons[0] and 'not JSON' in reasons[0]
    assert "no 'backup' dict" in reasons[1]
    assert 'HTTP 500' in reasons[2]
    assert "no 'backups' list" in reasons[3]
    assert '4 of 4 backups failed the dry run.' in result.stderr


def test_show_of_a_captive_portal_page_is_one_line(cloud):
    backup = cloud.add_backup('shown')
    cloud.misbehave = on('GET', hostile.html_page(200))
    result = openstack(cloud, 'vbs', 'backup', 'show', backup)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and 'not the backup API' in lines[0]


def test_a_stdin_line_that_is_not_utf8_is_that_lines_failure(cloud):
    backup = cloud.add_backup('after-bad-bytes')
    stdin = b'caf\xe9-latin1\n' + backup.encode() + b'\n'
    result = openstack(cloud, 'vbs', 'backup', 'delete', '-', '-f', 'json',
                       stdin=stdin)
    assert result.returncode == 1
    bad, good = result.rows
    assert bad['Result'] == 'failed' and 'not valid UTF-8' in bad['Reason']
    assert "caf\\xe9-latin1" in bad['Reason']
    assert good['Result'] == 'deleted' and backup not in cloud.backups
    assert '1 of 2 backups failed to delete.' in result.stderr


def test_a_byte_order_mark_on_stdin_is_ignored(cloud):
    first, second = cloud.add_backup('one'), cloud.add_backup('two')
    stdin = b'\xef\xbb\xbf' + first.encode() + b'\r\n' + second.encode()
    result = openstack(cloud, 'vbs', 'backup', 'delete', '-', stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert not cloud.backups


# -- 4. terminal-safe output --------------------------------------------------

EVIL = ('\x1b]0;pwned\x07\x1b[2J\x1b[32mall deleted\x1b[0m\r\x08\x00'
        '\x9b31m\nsecond line')


def test_server_text_is_escaped_on_stderr_and_capped(cloud):
    backup = cloud.add_backup('evil')
    cloud.misbehave = on('DELETE', hostile.cinder_error(
        400, 'badRequest', EVIL + 'x' * 5000, request_id='req-\x1b[31m'))
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup)
    assert result.returncode == 1
    assert not RAW_CONTROLS.search(result.stderr), repr(result.stderr)
    assert '\\x1b]0;pwned\\x07' in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[-1] == '1 of 1 backups failed to delete.'
    assert len(lines[0]) < 1000  # 5000 characters of server text, capped


@pytest.mark.parametrize('formatter', ['value', 'csv', 'table'])
def test_line_formats_escape_names_json_keeps_them_exact(cloud, formatter):
    evil = cloud.add_backup(EVIL)
    plain = cloud.add_backup('plain')
    result = openstack(cloud, 'vbs', 'backup', 'list', '-f', formatter,
                       '-c', 'ID', '-c', 'Name')
    assert result.returncode == 0, result.stderr
    assert not RAW_CONTROLS.search(result.stdout), repr(result.stdout)
    lines = [line for line in result.stdout.splitlines()
             if evil in line or plain in line]
    assert len(lines) == 2  # a newline in a name does not split its row
    exact = openstack(cloud, 'vbs', 'backup', 'list', '-f', 'json')
    assert {r['Name'] for r in exact.rows} == {EVIL, 'plain'}


def test_list_value_output_pipes_into_delete_safely(cloud):
    cloud.add_backup('x\n' + str(uuid.uuid4()))  # a name that hides an ID
    kept = cloud.add_backup('keep')
    listed = openstack(cloud, 'vbs', 'backup', 'list', '-f', 'value',
                       '-c', 'Name')
    result = openstack(cloud, 'vbs', 'backup', 'delete', '-',
                       stdin=listed.stdout.replace('keep\n', ''))
    assert result.returncode == 1  # the escaped name matches no backup
    assert kept in cloud.backups and len(cloud.backups) == 2
    assert not deletes(cloud)


def test_a_huge_stdin_line_is_not_echoed_whole(cloud):
    result = openstack(cloud, 'vbs', 'backup', 'delete', '-',
                       stdin='\x1b' + 'y' * 1000000 + '\n')
    assert result.returncode == 1
    assert len(result.stderr) < 2000
    assert '1000001 characters' in result.stderr


def test_the_progress_line_is_cleared_before_a_message(tmp_path):
    # stderr is a terminal (a pty), so the progress line is drawn; the
    # missing backups' failure lines come in the middle of the run.
    import pty
    import threading
    with FakeCloud(delete_delay=0.05) as cloud:
        cloud.tmp_path = tmp_path
        named = []
        for n in range(60):
            named.append(cloud.add_backup('p%d' % n) if n % 10
                         else str(uuid.uuid4()))
        config = tmp_path / 'clouds.yaml'
        config.write_text(cloud.clouds_yaml())
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = str(config)
        master, slave = pty.openpty()
        captured = []

        def read():
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return
                if not data:
                    return
                captured.append(data)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        process = subprocess.run(
            [OPENSTACK, '--os-cloud', 'fake', 'vbs', 'backup', 'delete',
             '--parallel', '1', *named], stdout=subprocess.PIPE,
            stderr=slave, env=env, timeout=120)
        os.close(slave)
        reader.join(5)
        os.close(master)
    text = b''.join(captured).decode('utf-8', 'replace')
    assert process.returncode == 1
    assert 'done, ' in text  # the progress line was drawn
    messages = [line for line in text.split('\n')
                if 'Failed to delete' in line]
    assert len(messages) == 6
    for line in messages:
        before = line[:line.index('Failed to delete')]
        # Nothing of a progress line is left in front of the message.
        assert before == '' or before.endswith('\r\x1b[K'), repr(line)


# -- 5. bounded time and memory -----------------------------------------------

def test_a_pathological_error_body_is_parsed_in_linear_time(cloud):
    backup = cloud.add_backup('slow-parse')
    cloud.misbehave = on('DELETE', hostile.Raw(
        400, b'<title' * 200000, content_type='text/html'))
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup, timeout=60)
    assert result.returncode == 1
    assert result.seconds < 20  # quadratic parsing took minutes


@pytest.mark.parametrize('headers_too', [False, True],
                         ids=['body', 'headers'])
def test_a_dripping_answer_is_cut_at_the_attempt_deadline(cloud,
                                                          headers_too):
    backup = cloud.add_backup('dripped')
    cloud.misbehave = on('DELETE', hostile.Drip(
        202, body=b' ' * 200, interval=0.1, headers_too=headers_too))
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                       '--connect-timeout', '1', '--read-timeout', '1',
                       '--retries', '0', '-f', 'json')
    # Each byte came well within the read timeout; the whole did not. The
    # attempt had the time its connection took, then the read timeout:
    # not the connect timeout on top once connected.
    assert result.returncode == 1
    assert 'no complete answer within 1 s' in result.rows[0]['Reason']
    assert result.seconds < 15


def test_huge_error_bodies_in_parallel_keep_memory_flat(cloud):
    backups = [cloud.add_backup('huge-%d' % n) for n in range(8)]
    cloud.misbehave = on('DELETE', hostile.Huge(500, 50 * 1024 * 1024))
    config = cloud.tmp_path / 'clouds.yaml'
    config.write_text(cloud.clouds_yaml())
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env['OS_CLIENT_CONFIG_FILE'] = str(config)
    process = subprocess.Popen(
        [OPENSTACK, '--os-cloud', 'fake', 'vbs', 'backup', 'delete',
         '--parallel', '8', *backups], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    stderr = process.stderr.read().decode()
    assert os.waitstatus_to_exitcode(status) == 1, stderr
    assert '8 of 8 backups failed to delete.' in stderr
    # 8 x 50 MB read whole peaked at 557 MB; a capped read stays near the
    # CLI's own ~100 MB.
    assert usage.ru_maxrss < 200 * 1024, usage.ru_maxrss  # KiB


def test_a_hung_endpoint_fails_the_rest_fast(cloud):
    backups = [cloud.add_backup('hung-%d' % n) for n in range(40)]
    cloud.misbehave = on('DELETE', hostile.Hang(30))
    result = openstack(cloud, 'vbs', 'backup', 'delete', *backups,
                       '--connect-timeout', '0.5', '--read-timeout', '0.5',
                       '--parallel', '4', '-f', 'json')
    assert result.returncode == 1
    assert [r['Result'] for r in result.rows] == ['failed'] * 40
    reasons = [r['Reason'] for r in result.rows]
    assert reasons[0].startswith('read timeout: no answer within ')
    assert sum('not answering' in r for r in reasons) >= 30
    # Once judged dead, the endpoint gets no more requests.
    assert len(deletes(cloud)) <= 16
    assert result.seconds < 30  # was 40 x 10 attempts of 0.5 s / 4


def test_each_backup_has_a_time_budget_whatever_the_retries(cloud):
    backup = cloud.add_backup('budgeted')
    cloud.misbehave = on('DELETE', hostile.Hang(30))
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                       '--connect-timeout', '0.5', '--read-timeout', '0.5',
                       '--retries', '50', '-f', 'json')
    assert result.returncode == 1
    # 3 attempts' time (3 s), not 51 attempts and their pauses.
    assert len(deletes(cloud)) < 5
    assert result.seconds < 12


def test_an_untrusted_certificate_is_not_retried(cloud, tmp_path):
    from tests.cli import tls
    backups = [str(uuid.uuid4()) for _ in range(16)]
    with tls.SelfSignedServer(tmp_path) as server:
        result = openstack(
            cloud, 'vbs', 'backup', 'delete', *backups, '-f', 'json',
            env={'OS_VBS_ENDPOINT_OVERRIDE':
                 server.url + '/v3/%(project_id)s'})
    assert result.returncode == 1
    reasons = [r['Reason'] for r in result.rows]
    assert len(reasons) == 16 and all('TLS failure' in r for r in reasons)
    assert 'CERTIFICATE_VERIFY_FAILED' in reasons[0]
    assert server.connections <= 8  # not 16 x 5 attempts
    assert result.seconds < 20


def test_a_proxy_that_refuses_is_named_with_what_to_do(cloud):
    # Keystone is reached directly; the VBS endpoint only through a proxy
    # that is not there.
    with socket.socket() as unused:
        unused.bind(('127.0.0.1', 0))
        proxy = 'http://127.0.0.1:%d' % unused.getsockname()[1]
    backup = str(uuid.uuid4())
    env = {'HTTPS_PROXY': proxy, 'https_proxy': proxy,
           'NO_PROXY': '127.0.0.1,localhost', 'no_proxy': '127.0.0.1',
           'OS_VBS_ENDPOINT_OVERRIDE': 'https://vbs.example.test/v3'}
    deleted = openstack(cloud, 'vbs', 'backup', 'delete', backup, '-f',
                        'json', '--retries', '0', env=env)
    listed = openstack(cloud, 'vbs', 'backup', 'list', '--retries', '0',
                       env=env)
    assert (deleted.returncode, listed.returncode) == (1, 1)
    [row] = deleted.rows
    for text in (row['Reason'], listed.stderr):
        # The cause is kept whole, not cut off behind keystoneauth's text.
        assert 'connection failed to the proxy: ' in text
        assert 'Connection refused' in text
        assert 'HTTPS_PROXY' in text  # what to do
    assert not cloud.vbs_requests()


@pytest.mark.parametrize('override, expected', [
    ('vbs.example.com/v3/%(project_id)s', 'not an http(s) URL'),
    ('https://vbs.example.com/my%20cloud/v3', '"%" that is not'),
    ('https://vbs.example.com/v3/%(project)s', '"%" that is not'),
    ('https://vbs.example.com/v3/%(project_id)', '"%" that is not'),
    ('https://operator:s3cr3t-pw@vbs.example.com/v3', 'user name or password'),
])
def test_an_endpoint_override_that_cannot_work_is_one_clear_line(
        cloud, override, expected):
    backup = cloud.add_backup('configured')
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                       env={'OS_VBS_ENDPOINT_OVERRIDE': override})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert 's3cr3t-pw' not in result.stderr
    assert not cloud.vbs_requests()


# -- 6. an endpoint that rejects every token ----------------------------------

def test_rejected_tokens_cause_no_login_storm(cloud):
    backups = [cloud.add_backup('b%d' % n) for n in range(50)]
    cloud.reject_tokens = True
    result = openstack(cloud, 'vbs', 'backup', 'delete', *backups,
                       '-f', 'json')
    assert result.returncode == 1
    assert [r['Result'] for r in result.rows] == ['failed'] * 50
    assert len(cloud.tokens_issued) <= 3  # was 22
    assert sum('rejects even a new token' in r['Reason']
               for r in result.rows) >= 40
    assert len(cloud.backups) == 50


# -- 7. paging ends -----------------------------------------------------------

def test_endless_empty_pages_end_with_a_clear_error(cloud):
    def misbehave(method, path):
        if method == 'GET' and '/backups/detail' in path:
            return hostile.Raw(200, {'backups': [], 'backups_links': [{
                'rel': 'next', 'href': 'http://x/backups?marker=%s'
                % uuid.uuid4()}]})
        return None
    cloud.misbehave = misbehave
    for limit in ([], ['--limit', '1']):
        result = openstack(cloud, 'vbs', 'backup', 'list', *limit)
        assert result.returncode == 1
        assert 'empty backup list page' in result.stderr
    assert len([r for r in cloud.requests if '/detail' in r[1]]) == 2


def test_paging_stops_after_a_bound(cloud, monkeypatch):
    # A next link whose query changes for ever, pages never empty: the
    # bound (10000 pages) is lowered to keep the test short.
    from vbsclient.api import errors
    from vbsclient.api import paging
    monkeypatch.setattr(paging, 'MAX_PAGES', 30)
    cloud.page_size = 1
    for n in range(100):
        cloud.add_backup('page-%d' % n)
    with pytest.raises(errors.VbsError) as info:
        list(cloud.library_client().list())
    assert 'did not end after 30 pages' in str(info.value)
    assert len(cloud.vbs_requests()) == 30


# -- 8. settings --------------------------------------------------------------

@pytest.mark.parametrize('option, value', [
    ('--timeout', 'nan'), ('--read-timeout', 'inf'),
    ('--read-timeout', 'nan'), ('--connect-timeout', 'inf')])
def test_numbers_that_are_not_finite_are_refused(cloud, option, value):
    backup = cloud.add_backup('kept')
    result = openstack(cloud, 'vbs', 'backup', 'delete', option, value,
                       backup)
    assert result.returncode == 2
    assert 'is not a positive number' in result.stderr
    assert not cloud.vbs_requests()


def test_clouds_yaml_api_timeout_is_the_read_timeout(cloud):
    backup = cloud.add_backup('timed')
    cloud.misbehave = on('DELETE', hostile.Hang(30))
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                       '--retries', '0', '-f', 'json',
                       settings={'api_timeout': 1})
    assert 'no answer within 1 s' in result.rows[0]['Reason']
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                       '--retries', '0', '--read-timeout', '0.5', '-f',
                       'json', settings={'api_timeout': 1})
    assert 'no answer within 0.5 s' in result.rows[0]['Reason']


# -- 10. the interactive shell ------------------------------------------------

def test_stdin_backups_are_refused_in_the_interactive_shell(cloud):
    backup = cloud.add_backup('vbs backup list')  # what "-" would swallow
    result = openstack(cloud, stdin='vbs backup delete -\n'
                                    'vbs backup list -f value -c ID\n')
    assert 'cannot be used in the interactive shell' in result.stderr
    assert backup in cloud.backups and not deletes(cloud)
    # The next line ran as the command it is, not as a backup name.
    assert backup in result.stdout
    assert not [r for r in cloud.requests if 'name=' in r[1]]


def test_the_check_of_a_cut_off_delete_shares_its_retries(cloud):
    # A hung server: the DELETE's attempts are cut off by the read
    # timeout, then a GET must tell what they did. It gets the retries
    # the DELETE left, none here: 3 attempts and 1 check, not 3 + 3.
    backup = cloud.add_backup('hung')
    cloud.misbehave = hostile.first_of(on('DELETE', hostile.Hang(5)),
                                       on('GET', hostile.Hang(5)))
    result = openstack(cloud, 'vbs', 'backup', 'delete', backup,
                       '--read-timeout', '1', '--retries', '2', '-f', 'json')
    assert result.returncode == 1
    sent = [r.method for r in cloud.vbs_requests()]
    assert sent == ['DELETE'] * 3 + ['GET'], sent
    assert 'may have deleted it' in result.rows[0]['Reason']
