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

"""A private RabbitMQ node on loopback (Cinder's RPC needs a real broker:
with oslo.messaging's fake:// transport a DELETE is accepted and the backup
then stays in `deleting` for ever).

The node never touches the system one: own node name, own epmd (started by
us in the foreground so it has a pid file too), own ports, own data, log and
cookie under $STATE.
"""

from . import install
from . import paths
from . import proc

EPMD = "epmd"
NAME = "rabbitmq"
RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
LOOPBACK_ONLY = "-kernel inet_dist_use_interface {127,0,0,1}"


def rabbit_env(state):
    etc = state.etc / "rabbitmq"
    data = state.rabbit_dir
    return proc.child_env(state, {
        "HOME": str(data),                      # the Erlang cookie lives here
        "RABBITMQ_NODENAME": paths.RABBIT_NODE,
        "RABBITMQ_USE_LONGNAME": "false",
        "RABBITMQ_CONF_ENV_FILE": str(etc / "rabbitmq-env.conf"),
        "RABBITMQ_CONFIG_FILE": str(etc / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(etc / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(etc / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(data / "mnesia"),
        "RABBITMQ_LOG_BASE": str(state.log / "rabbitmq"),
        "RABBITMQ_PID_FILE": str(data / "beam.pid"),
        "RABBITMQ_DIST_PORT": str(paths.RABBIT_DIST_PORT),
        "ERL_EPMD_PORT": str(paths.EPMD_PORT),
        "ERL_EPMD_ADDRESS": paths.HOST,
        # Keep the distribution listeners of the node and of rabbitmqctl
        # on loopback too.
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": LOOPBACK_ONLY,
        "RABBITMQ_CTL_ERL_ARGS": LOOPBACK_ONLY,
    })


def start(state):
    """Start epmd then the node, without waiting for the node to boot."""
    started = False
    env = rabbit_env(state)
    if not proc.running_pid(state, EPMD):
        proc.ensure_ports_free(EPMD, paths.EPMD_PORT)
        proc.start(state, EPMD, ["epmd", "-port", paths.EPMD_PORT,
                                 "-address", paths.HOST], env)
        proc.wait_for(lambda: proc.port_open(paths.EPMD_PORT), "epmd",
                      timeout=15, pid_of=(state, EPMD))
        started = True
    if not proc.running_pid(state, NAME):
        proc.ensure_ports_free(NAME, paths.AMQP_PORT, paths.RABBIT_DIST_PORT)
        (state.log / "rabbitmq").mkdir(exist_ok=True)
        proc.start(state, NAME, [install.RABBIT_SERVER], env)
        started = True
    return started


def wait(state, fresh):
    """Wait for the AMQP port first: `rabbitmqctl await_startup` fails
    outright when the node has not registered with epmd yet.  A node that
    was already running (fresh=False) only gets the port check: the CLI
    costs seconds.
    """
    proc.wait_for(lambda: proc.port_open(paths.AMQP_PORT),
                  "RabbitMQ AMQP port", timeout=90, pid_of=(state, NAME))
    if fresh:
        proc.run([RABBITMQCTL, "await_startup", "--timeout", "60"],
                 env=rabbit_env(state), logname="rabbitmqctl", state=state)
