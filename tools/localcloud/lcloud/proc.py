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

"""Starting, finding and stopping our processes.

Each service is started in a session (and so a process group) of its own,
with its pid recorded in $STATE/run/<name>.pid.  Stopping signals that
whole group, which also takes down children such as gunicorn workers,
cinder-volume's backend process and the privsep daemons.

A pid file holds "<pid> <start time>" (field 22 of /proc/<pid>/stat): a
pid is only trusted while the process with that pid has the same start
time, so a recycled pid is never signalled.  (Marking our processes through
their environment does not work: gunicorn's setproctitle overwrites it.)
"""

import os
import signal
import socket
import subprocess
import sys
import time

from . import paths


def log(message):
    print(f"[localcloud] {message}", file=sys.stderr, flush=True)


def child_env(state, extra=None):
    """A clean environment for our services: no OS_* credentials leak in."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OS_", "PYTHON", "VIRTUAL_ENV"))}
    # The sudo shim (tools/localcloud/bin) comes first; then the venv, for
    # privsep-helper and cinder-rootwrap, which os-brick runs by name.
    env["PATH"] = os.pathsep.join([
        str(paths.TOOL_DIR / "bin"), str(state.venv / "bin"),
        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
        "/sbin", "/bin"])
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- pids


def _read_pidfile(state, name):
    """(pid, start time) from a pid file, or (None, None)."""
    try:
        pid, started = state.pidfile(name).read_text().split()
        return int(pid), started
    except (OSError, ValueError):
        return None, None


def _proc_stat(pid):
    """(state letter, process group id, start time) of a pid, or None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            raw = handle.read()
    except OSError:
        return None
    # The command name sits in parentheses and may contain spaces.
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[2]), fields[19]


def running_pid(state, name):
    """The pid of service `name` if its recorded process still runs."""
    pid, started = _read_pidfile(state, name)
    stat = _proc_stat(pid) if pid else None
    if stat and stat[0] not in ("Z", "X") and stat[2] == started:
        return pid
    return None


def _our_group(state, name):
    """The process group id of service `name` if any of it still runs.

    The leader may have died and left children (gunicorn workers, say);
    while any member lives the kernel does not hand its pgid out again,
    so members of that group are still ours.
    """
    pid, started = _read_pidfile(state, name)
    if pid is None:
        return None
    stat = _proc_stat(pid)
    if stat and stat[2] != started:
        return None             # the pid now belongs to someone else
    return pid if group_members(pid) else None


def group_members(pgid):
    """Live (non-zombie) pids in process group pgid."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat and stat[1] == pgid and stat[0] not in ("Z", "X"):
                members.append(int(entry))
    return members


# ---------------------------------------------------------- start, stop


def start(state, name, argv, env, cwd=None):
    """Start a service detached from us, logging to $STATE/log/<name>.log."""
    logfile = open(state.logfile(name), "ab")
    logfile.write((f"\n===== {time.ctime()} starting: "
                   f"{' '.join(map(str, argv))}\n").encode())
    logfile.flush()
    child = subprocess.Popen(
        [str(a) for a in argv], env=env, cwd=str(cwd or state.root),
        stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
        start_new_session=True)
    logfile.close()
    stat = _proc_stat(child.pid)
    state.pidfile(name).write_text(f"{child.pid} {stat[2] if stat else 0}\n")
    return child.pid


def stop_many(state, names, timeout=30):
    """Stop services and their whole process groups, all at once.

    A group is signalled even when its leader already died, as long as a
    member of it is still ours (e.g. a gunicorn worker left behind).
    Returns the names of the services that were running.
    """
    groups = {}
    for name in names:
        pid = _our_group(state, name)
        if pid:
            groups[name] = pid
            _signal_group(pid, signal.SIGTERM)
        state.pidfile(name).unlink(missing_ok=True)
    deadline = time.monotonic() + timeout
    while any(group_members(pid) for pid in groups.values()):
        if time.monotonic() > deadline:
            for name, pid in groups.items():
                if group_members(pid):
                    log(f"{name} ignored SIGTERM for {timeout}s: SIGKILL")
                    _signal_group(pid, signal.SIGKILL)
            time.sleep(0.5)
            break
        time.sleep(0.2)
    return list(groups)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------- waits


def port_open(port, host=paths.HOST):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_ports_free(name, *ports):
    """Refuse to start `name` when something else already listens on its
    port: waiting for the port would then be fooled by the stranger.
    """
    for port in ports:
        if port_open(port):
            raise RuntimeError(f"{name} needs 127.0.0.1:{port}, which another "
                               f"process already listens on")


def wait_for(check, what, timeout, interval=0.3, pid_of=None):
    """Poll check() until truthy; fail early if the service process died.

    pid_of: (state, name) of the service whose death should end the wait.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if pid_of and running_pid(*pid_of) is None:
            state, name = pid_of
            raise RuntimeError(f"{name} exited while waiting for {what}; "
                               f"see {state.logfile(name)}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def run(argv, env=None, logname=None, state=None, check=True, timeout=600):
    """Run a short command, output to a log file (or captured)."""
    argv = [str(a) for a in argv]
    if logname:
        with open(state.logfile(logname), "ab") as logfile:
            logfile.write(
                f"\n===== {time.ctime()} {' '.join(argv)}\n".encode())
            logfile.flush()
            done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                                  stdout=logfile, stderr=subprocess.STDOUT,
                                  timeout=timeout)
    else:
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        where = state.logfile(logname) if logname else done.stderr
        raise RuntimeError(f"command failed ({done.returncode}): "
                           f"{' '.join(argv)}\n{where}")
    return done
