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

"""Resilience at unit speed: real HTTP through tools/faultproxy.py to the
tests' FakeCloud, and Ctrl-C on the real `openstack` executable.
"""

import json
import os
import signal
import subprocess
import time
import uuid

import faultproxy
from keystoneauth1.identity import v3
from keystoneauth1 import session as ksa_session
import pytest

from tests.cli.fake_cloud import FakeCloud
from tests.cli.fake_cloud import PASSWORD
from tests.cli.fake_cloud import PROJECT_ID
from tests.cli import hostile
from tests.cli.test_openstack_shell import OPENSTACK
from vbsclient.api import client as api_client
from vbsclient.api import deletion
from vbsclient.api import retry
from vbsclient.api import run as runs


# Every fault that a retry can overcome (a 500 is the backup's failure).
RETRIABLE_FAULTS = ['503', '502', '504', '503-html', '502-empty', '429',
                    '413', 'reset-before', 'reset-after', 'slow-after',
                    'expire-token']


@pytest.fixture
def quick_retries(monkeypatch):
    # The policy's shape is tested in tests/unit; here only its outcome.
    monkeypatch.setattr(retry, 'FIRST_DELAY', 0.02)
    monkeypatch.setattr(retry, 'MAX_RETRY_AFTER', 0.05)


def test_a_thousand_ids_with_ten_percent_of_requests_faulted(quick_retries):
    with FakeCloud() as cloud:
        real = [cloud.add_backup('doomed-%d' % n) for n in range(950)]
        bogus = [str(uuid.uuid4()) for _ in range(50)]
        bystanders = [cloud.add_backup('bystander-%d' % n) for n in range(20)]
        plan = faultproxy.RandomFaults(0.1, RETRIABLE_FAULTS, seed=7,
                                       methods={'DELETE', 'GET'})
        with faultproxy.FaultProxy(cloud.url, plan=plan, slow=1.0) as proxy:
            session = ksa_session.Session(auth=v3.Password(
                auth_url=cloud.url + '/identity/v3', username='operator',
                password=PASSWORD, project_id=PROJECT_ID,
                user_domain_id='default'))
            client = api_client.BackupClient(
                session,
                endpoint_override=proxy.url + '/vbs/v3/%(project_id)s',
                retries=4, connect_timeout=1, read_timeout=0.5)
            wanted = real + bogus
            outcomes = list(deletion.BulkDelete(
                runs.Run(client, parallel=8)).run(iter(wanted)))
        faulted = proxy.count(fault=True)
        left = set(cloud.backups)

    # About 100 expected (10 % of ~1000); which requests draw a fault
    # depends on the threads' order, so the count varies from run to run.
    assert faulted >= 60, 'the plan faulted too little to prove anything'
    # Every ID: exactly one outcome, in order.
    assert [o.argument for o in outcomes] == wanted
    for outcome in outcomes:
        assert outcome.result in ('deleted', 'gone', 'failed'), outcome
        # The outcome agrees with what the server really holds.
        if outcome.result in ('deleted', 'gone'):
            assert outcome.backup_id not in left, outcome
        elif outcome.argument in real:
            assert outcome.backup_id in left, outcome
    # Nothing outside the list was touched.
    assert left >= set(bystanders)
    # Retries carried almost every real backup through.
    done = [o for o in outcomes[:950] if o.result in ('deleted', 'gone')]
    assert len(done) >= 945


def test_ctrl_c_stops_sending_and_reports_every_backup(tmp_path):
    with FakeCloud(delete_delay=0.05) as cloud:
        backups = [cloud.add_backup('b%d' % n) for n in range(300)]
        config = tmp_path / 'clouds.yaml'
        config.write_text(cloud.clouds_yaml())
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = str(config)
        ids = tmp_path / 'ids'
        ids.write_text('\n'.join(backups) + '\n')
        with open(ids) as stdin:
            process = subprocess.Popen(
                [OPENSTACK, '--os-cloud', 'fake', 'vbs', 'backup', 'delete',
                 '--parallel', '2', '-f', 'json', '-'],
                stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=env)
        deadline = time.monotonic() + 60
        while len(cloud.backups) > 290 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        left = set(cloud.backups)

    assert process.returncode == 130, err
    rows = json.loads(out)
    assert [r['ID'] for r in rows] == backups  # every backup, once
    results = {r['ID']: r['Result'] for r in rows}
    assert set(results.values()) == {'deleted', 'not-attempted'}
    for backup, result in results.items():
        # Nothing reported deleted that was not, and the reverse.
        assert (result == 'deleted') == (backup not in left)
    assert 10 <= list(results.values()).count('deleted') < 300
    assert 'Interrupted: of 300 backups' in err
    assert 'Traceback' not in err


def test_a_hung_server_costs_what_the_retries_and_read_timeout_say(tmp_path):
    # Accepts every connection, reads the request, never answers. With
    # --read-timeout 1 and the default retries (4): five DELETE attempts
    # of 1 s, their back-offs less the second each already waited, and one
    # GET to tell what they did, with the retries they left (none). It
    # took 22 s when the check had retries of its own, 15 s when the
    # back-offs came on top of the read timeouts; now about 10 s.
    with FakeCloud() as cloud:
        backup = cloud.add_backup('hung')
        cloud.misbehave = lambda method, path: hostile.Hang(30)
        config = tmp_path / 'clouds.yaml'
        config.write_text(cloud.clouds_yaml())
        env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
        env['OS_CLIENT_CONFIG_FILE'] = str(config)
        started = time.monotonic()
        done = subprocess.run(
            [OPENSTACK, '--os-cloud', 'fake', 'vbs', 'backup', 'delete',
             backup, '--read-timeout', '1', '-f', 'json'],
            capture_output=True, text=True, env=env, timeout=60)
        took = time.monotonic() - started
        sent = [r.method for r in cloud.vbs_requests()]

    assert done.returncode == 1, done.stderr
    assert took < 15, took
    assert sent == ['DELETE'] * (retry.DEFAULT_RETRIES + 1) + ['GET'], sent
    reason = json.loads(done.stdout)[0]['Reason']
    # Why: no answer, and the delete may have happened all the same.
    assert reason.startswith('read timeout: no answer within 1 s'), reason
    assert 'may have deleted it' in reason, reason
    assert '1 of 1 backups failed to delete.' in done.stderr
