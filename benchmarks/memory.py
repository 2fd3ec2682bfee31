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

"""Peak memory of `openstack vbs backup delete -` reading many backup IDs
from standard input, against a few.

The plugin streams standard input (read as consumed, a bounded window of
work in flight), so its peak RSS should not grow with the number of IDs.
Each run deletes --large (default 10 000) or --small (default 10) backups
of an in-process fake Keystone + VBS (tests/cli/fake_cloud.py), which
answers every DELETE with 202 at once; the IDs come from a file on the
child's standard input. The peak RSS (ru_maxrss, KiB on Linux) is read
with os.wait4 for exactly that child.

Target: large/small < 1.2 (flat).
"""

import sys

import common
from tests.cli.fake_cloud import FakeCloud


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--large', type=common.positive_int, default=10000,
                        help='IDs in the large run (default: 10000)')
    parser.add_argument('--small', type=common.positive_int, default=10,
                        help='IDs in the small run (default: 10)')
    parser.add_argument('--repeat', type=common.positive_int, default=1,
                        help='runs per size; medians are shown (default 1)')
    args = parser.parse_args()

    peaks = {args.small: [], args.large: []}
    walls = {args.small: [], args.large: []}
    problems = []
    with FakeCloud() as cloud, common.temp_dir() as folder:
        # The fake cloud answers HTTP/1.0 (a new connection per request)
        # with socketserver's listen backlog of 5: when this process is
        # short of CPU, connection attempts overflow it and the client
        # waits ~1 s for a SYN retransmit (ListenOverflows in
        # /proc/net/netstat). A longer backlog keeps the wall time honest;
        # the memory figure is the same either way.
        cloud.server.socket.listen(128)
        clouds_yaml = folder / 'clouds.yaml'
        clouds_yaml.write_text(cloud.clouds_yaml())
        env = common.child_env(OS_CLIENT_CONFIG_FILE=str(clouds_yaml))
        for repeat in range(args.repeat):
            for count in (args.small, args.large):
                common.note('repeat %d: %d IDs on stdin' % (repeat + 1, count))
                done, problem = delete_from_stdin(cloud, folder, env, count)
                peaks[count].append(done.maxrss_kib)
                walls[count].append(done.seconds)
                if problem:
                    problems.append(problem)
    report(peaks, walls, args)
    for problem in problems:
        print('PROBLEM: ' + problem)
    return 1 if problems else 0


def delete_from_stdin(cloud, folder, env, count):
    """Add `count` backups to the fake cloud; delete them all via stdin."""
    ids = [cloud.add_backup('bench-mem-%05d' % n) for n in range(count)]
    ids_file = folder / 'ids.txt'
    ids_file.write_text('\n'.join(ids) + '\n')
    deletes_before = _deletes(cloud)
    done = common.run(
        [common.OPENSTACK, '--os-cloud', 'fake', 'vbs', 'backup', 'delete',
         '-'], env=env, stdin_path=str(ids_file))
    problem = None
    deletes = _deletes(cloud) - deletes_before
    left = sum(1 for i in ids if i in cloud.backups)
    if done.returncode != 0 or deletes != count or left:
        problem = ('%d IDs: exit %d, %d DELETEs, %d backups left; %s'
                   % (count, done.returncode, deletes, left,
                      done.stderr[-1000:]))
    # The fake cloud keeps every request; forget them so its own memory
    # (this process, not the child measured) stays small.
    cloud.requests.clear()
    return done, problem


def _deletes(cloud):
    return sum(1 for method, _, _ in cloud.requests if method == 'DELETE')


def report(peaks, walls, args):
    small = common.median(peaks[args.small])
    large = common.median(peaks[args.large])
    rows = [
        ('%d IDs' % args.small, '%d KiB' % small,
         common.seconds(common.median(walls[args.small]))),
        ('%d IDs' % args.large, '%d KiB' % large,
         common.seconds(common.median(walls[args.large]))),
        ('large/small', common.ratio(large, small), ''),
    ]
    common.print_table(
        'Peak RSS of `openstack vbs backup delete -` (fake cloud%s)'
        % (', median of %d' % args.repeat if args.repeat > 1 else ''),
        ('stdin', 'peak RSS (ru_maxrss)', 'wall time'), rows)
    print('target: large/small < 1.2 (flat): %s'
          % ('met' if large / small < 1.2 else 'NOT met'))


if __name__ == '__main__':
    sys.exit(main())
