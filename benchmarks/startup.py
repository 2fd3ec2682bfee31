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

"""Start-up cost of the plugin: what every `openstack` command pays for it
being installed, vbs command or not.

(i) Import time of vbsclient.plugin (the module OpenStackClient imports
    for every command), in .venv, from `python -X importtime`, median of
    --import-runs runs, two ways:
    - cold: `import vbsclient.plugin` alone; its cumulative time includes
      osc_lib.utils and everything below it;
    - after OSC: `import openstackclient.shell` first, as in the real CLI,
      where osc_lib is already loaded. OSC itself imports the plugin while
      openstackclient.shell loads (through importlib.import_module, which
      -X importtime does not report), so the script drops the vbsclient
      modules from sys.modules and imports vbsclient.plugin again: that
      import is then timed on top of a loaded OSC.
    The "vbsclient.plugin" line's cumulative time includes the "vbsclient"
    package. Target: < 5 ms after OSC.

(ii) Wall time of `openstack --help` (which loads every command of every
    plugin) with the plugin installed and without, in two venvs under
    benchmarks/.venvs/ with python-openstackclient 10.5.0 and .venv's
    versions of its dependencies. "with-plugin" has the plugin installed
    as a user would (not editable), from a copy of the current source;
    the venvs are reused, and the plugin reinstalled when its source
    changed. One warm-up run each, then --runs runs each, interleaved.
    Target: with/without within the noise of 1.0.
"""

import hashlib
import importlib.metadata
from pathlib import Path
import re
import shutil
import statistics
import subprocess
import sys

import common

OSC_VERSION = '10.5.0'
VENVS = common.REPO / 'benchmarks' / '.venvs'
WITH, WITHOUT = 'with-plugin', 'without-plugin'
# The plugin's build inputs: a change to any of them means a reinstall.
SOURCE_FILES = ('setup.py', 'setup.cfg', 'pyproject.toml',
                'requirements.txt', 'README.md')
IMPORT_LINE = re.compile(r'import time:\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\S+)')
# Run in .venv's python: re-import the plugin on top of a loaded OSC.
AFTER_OSC = '''
import sys
import openstackclient.shell
for name in [m for m in sys.modules
             if m == 'vbsclient' or m.startswith('vbsclient.')]:
    del sys.modules[name]
import vbsclient.plugin
'''


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--import-runs', type=common.positive_int, default=9,
                        help='python -X importtime runs per way (default 9)')
    parser.add_argument('--runs', type=common.positive_int, default=10,
                        help='openstack --help runs per venv (default 10)')
    parser.add_argument('--skip-help', action='store_true',
                        help='only (i): no venvs, no openstack --help')
    args = parser.parse_args()

    with common.temp_dir() as folder:
        import_times(args.import_runs, folder)
        if not args.skip_help:
            help_times(args.runs, folder)
    return 0


# -- (i) import time ------------------------------------------------------

def import_times(runs, folder):
    python = str(common.VENV_BIN / 'python')
    ways = (('cold: import vbsclient.plugin', 'import vbsclient.plugin'),
            ('after OSC: openstackclient.shell first', AFTER_OSC))
    rows = []
    medians = []
    for label, code in ways:
        plugin, package = [], []
        for _ in range(runs):
            lines = importtime(python, code, folder)
            plugin.append(lines['vbsclient.plugin'])
            package.append(lines['vbsclient'])
        rows.append((label, _ms(common.median(plugin)),
                     '%s-%s' % (_ms(min(plugin)), _ms(max(plugin))),
                     _ms(common.median(package))))
        medians.append(common.median(plugin))
    common.print_table(
        '(i) import time in .venv, median of %d (cumulative, -X importtime)'
        % runs, ('way', 'vbsclient.plugin', 'spread', 'of it: vbsclient'),
        rows)
    print('target: vbsclient.plugin < 5 ms after OSC: %s'
          % ('met' if medians[-1] < 5000 else 'NOT met'))


def importtime(python, code, folder):
    """{module: cumulative microseconds} of the vbsclient lines of one run.

    Run from an empty folder, so vbsclient comes from the installed
    package, not from a checkout in the current directory.
    """
    done = subprocess.run([python, '-X', 'importtime', '-c', code],
                          cwd=folder, capture_output=True, text=True,
                          env=common.child_env())
    if done.returncode != 0:
        raise SystemExit('python -X importtime failed:\n'
                         + done.stderr[-2000:])
    found = {}
    for match in IMPORT_LINE.finditer(done.stderr):
        name = match.group(3)
        if name in ('vbsclient', 'vbsclient.plugin'):
            found[name] = int(match.group(2))
    if len(found) != 2:
        raise SystemExit('no vbsclient lines in -X importtime output:\n'
                         + done.stderr[-2000:])
    return found


def _ms(microseconds):
    return '%.1f ms' % (microseconds / 1000)


# -- (ii) openstack --help -------------------------------------------------

def help_times(runs, folder):
    venvs = {WITHOUT: prepare_venv(WITHOUT, None, folder),
             WITH: prepare_venv(WITH, plugin_source_hash(), folder)}
    times = {WITH: [], WITHOUT: []}
    for venv in (WITH, WITHOUT):  # warm-up: page cache, first-run work
        check_help(venv, openstack_help(venvs[venv], folder))
    for number in range(runs):
        order = (WITH, WITHOUT) if number % 2 == 0 else (WITHOUT, WITH)
        for venv in order:
            times[venv].append(openstack_help(venvs[venv], folder).seconds)
    report_help(times, runs)


def openstack_help(openstack, folder):
    # No cloud settings and an empty HOME: nothing but the install differs.
    return common.run([openstack, '--help'],
                      env=common.child_env(HOME=str(folder))).check()


def check_help(venv, done):
    """The plugin's commands are listed with it, and only with it."""
    listed = 'vbs backup delete' in done.stdout
    if listed != (venv == WITH):
        raise SystemExit('%s: `openstack --help` %s the vbs commands'
                         % (venv, 'lists' if listed else 'does not list'))


def report_help(times, runs):
    med = {venv: common.median(values) for venv, values in times.items()}
    rows = [(venv, common.seconds(med[venv]), common.spread(times[venv]),
             '%.1f %%' % (100 * _relative_iqr(times[venv])))
            for venv in (WITH, WITHOUT)]
    ratio = med[WITH] / med[WITHOUT]
    rows.append(('with/without', '%.3f' % ratio, '', ''))
    common.print_table(
        '(ii) `openstack --help` wall time, median of %d interleaved runs'
        % runs, ('venv', 'median', 'spread (min-max)', 'IQR/median'), rows)
    noise = max(_relative_iqr(values) for values in times.values())
    print('noise = the larger IQR/median = %.1f %%; target: |with/without '
          '- 1| within it: %s' % (100 * noise, 'met' if abs(ratio - 1) <= noise
                                  else 'NOT met'))


def _relative_iqr(values):
    if len(values) < 2:
        return 0.0
    quartiles = statistics.quantiles(values, n=4)
    return (quartiles[2] - quartiles[0]) / statistics.median(values)


# -- the two venvs ---------------------------------------------------------

def prepare_venv(name, source_hash, folder):
    """Create (or reuse) benchmarks/.venvs/<name>; return its openstack.

    source_hash None: OpenStackClient only. Otherwise the plugin too,
    reinstalled whenever the hash of its source differs from the stamp.
    """
    venv = VENVS / name
    python = venv / 'bin' / 'python'
    if not (venv / 'bin' / 'openstack').exists():
        common.note('creating %s (python-openstackclient==%s)'
                    % (venv, OSC_VERSION))
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys._base_executable, '-m', 'venv', str(venv)],
                       check=True)
        pip(python, folder, 'python-openstackclient==' + OSC_VERSION)
    stamp = venv / 'plugin-source.sha256'
    if source_hash and (not stamp.exists() or
                        stamp.read_text().strip() != source_hash):
        common.note('installing the plugin (current source) into ' + name)
        pip(python, folder, '--force-reinstall', '--no-deps',
            str(copy_plugin_source(folder)))
        stamp.write_text(source_hash + '\n')
    return str(venv / 'bin' / 'openstack')


def pip(python, folder, *arguments):
    """pip install, pinned to .venv's versions of everything .venv has."""
    constraints = Path(folder) / 'venv-constraints.txt'
    if not constraints.exists():
        frozen = subprocess.run(
            [str(common.VENV_BIN / 'python'), '-m', 'pip', 'freeze',
             '--exclude-editable'], capture_output=True, text=True,
            check=True).stdout
        constraints.write_text(frozen)
    env = common.child_env(
        # pbr takes the version from here instead of asking git, and
        # with only the venv on PATH it finds no git to run at all.
        PBR_VERSION=importlib.metadata.version('python-vbsclient'),
        PATH=str(Path(python).parent))
    done = subprocess.run([str(python), '-m', 'pip', 'install', '--quiet',
                           '-c', str(constraints)] + list(arguments),
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit('pip install failed:\n' + done.stderr[-3000:])


def copy_plugin_source(folder):
    """A copy of what building the plugin needs, outside the checkout.

    Building in the checkout would write build/ and *.egg-info into it;
    a copy keeps the checkout untouched.
    """
    target = Path(folder) / 'python-vbsclient'
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(common.REPO / 'vbsclient', target / 'vbsclient',
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    for name in SOURCE_FILES:
        shutil.copy2(common.REPO / name, target / name)
    return target


def plugin_source_hash():
    digest = hashlib.sha256()
    paths = sorted((common.REPO / 'vbsclient').rglob('*.py'))
    paths += [common.REPO / name for name in SOURCE_FILES]
    for path in paths:
        digest.update(str(path.relative_to(common.REPO)).encode() + b'\0')
        digest.update(path.read_bytes() + b'\0')
    return digest.hexdigest()


if __name__ == '__main__':
    sys.exit(main())
