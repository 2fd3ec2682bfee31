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

"""Requests per deleted backup: `openstack vbs backup delete` (the plugin)
against `openstack volume backup delete` (OpenStackClient itself, "the
anchor"), on the local cloud.

Each side deletes its own N freshly seeded backups, by ID, in one command.
Both Keystone and Cinder are reached through counting proxies
(tools/faultproxy.py), set in a temporary clouds.yaml: auth_url points at
the Keystone proxy; vbs_endpoint_override and block_storage_endpoint_override
at the Cinder proxy. Every request either CLI sends is counted, version
discovery included (that is part of a side's real cost).

Target: the plugin sends 1 Cinder request per backup and gets 1 token for
the whole run. Afterwards the script checks at the server that every
backup is really gone.
"""

import sys
import urllib.parse

import common
from faultproxy import FaultProxy

SIDES = (
    ('plugin', ['vbs', 'backup', 'delete']),
    ('anchor', ['volume', 'backup', 'delete']),
)
CLOUD_NAME = 'bench-counted'


def main():
    parser = common.argument_parser(__doc__)
    parser.add_argument('--count', type=common.positive_int, default=50,
                        help='backups deleted per side (default: 50)')
    args = parser.parse_args()

    common.local_cloud_env()
    admin = common.Admin()
    results = {}
    with common.Seeded(admin) as seeded, common.temp_dir() as folder:
        for label, command in SIDES:
            volume_id, ids = seeded.batch(args.count, 'bench-rpb-' + label)
            common.note('%s: deleting %d backups through the proxies'
                        % (label, len(ids)))
            results[label] = count_requests(admin, folder, command, ids)
            left = admin.wait_gone([volume_id])
            results[label]['deleted'] = len(ids) - len(left)
            results[label]['left'] = left
    report(results, args.count)
    return 0 if all(not r['left'] for r in results.values()) else 1


def count_requests(admin, folder, command, ids):
    """Run one CLI deletion, Keystone and Cinder behind counting proxies."""
    base = common.local_cloud_config()
    auth_url = urllib.parse.urlsplit(base['auth']['auth_url'])
    keystone_root = '%s://%s' % (auth_url.scheme, auth_url.netloc)
    with FaultProxy(keystone_root) as keystone, \
            FaultProxy(admin.cinder_root()) as cinder:
        config = dict(base, auth=dict(base['auth']))
        config['auth']['auth_url'] = keystone.url + auth_url.path
        # The project ID is written out, not %(project_id)s: openstacksdk
        # runs version discovery on the block-storage override as given,
        # and does not fill that placeholder in (it would GET
        # ".../v3/%25(project_id)s" and fail). The plugin fills it in, but
        # both sides get the same URL for a like-for-like count.
        endpoint = '%s/v3/%s' % (cinder.url, admin.project_id)
        config['vbs_endpoint_override'] = endpoint
        config['block_storage_endpoint_override'] = endpoint
        clouds_yaml = common.write_clouds_yaml(folder, {CLOUD_NAME: config})
        env = common.child_env(OS_CLIENT_CONFIG_FILE=clouds_yaml,
                               OS_CLOUD=CLOUD_NAME)
        done = common.run([common.OPENSTACK] + command + ids, env=env)
        done.check()
        return tally(keystone.requests, cinder.requests, done.seconds)


def tally(keystone_requests, cinder_requests, elapsed):
    """Sum up what the proxies saw.

    A 3xx answer passed back to the client is followed by one more request
    that goes straight to Cinder: Cinder builds the Location header from
    the Host it was sent, and the proxy forwards with Cinder's own host.
    That request is real and belongs to the side's cost, so it is added
    ("redirects" column) although no proxy saw it.
    """
    redirects = sum(1 for _, _, _, status in cinder_requests
                    if status and 300 <= status < 400)
    methods = {}
    for method, _, _, _ in cinder_requests:
        methods[method] = methods.get(method, 0) + 1
    return {
        'cinder': len(cinder_requests) + redirects,
        'redirects': redirects,
        'cinder_delete': methods.get('DELETE', 0),
        'cinder_get': methods.get('GET', 0) + redirects,
        'keystone': len(keystone_requests),
        'tokens': sum(1 for method, path, _, _ in keystone_requests
                      if method == 'POST' and
                      path.split('?')[0].rstrip('/').endswith('/auth/tokens')),
        'seconds': elapsed,
    }


def report(results, count):
    headers = ('side', 'deleted', 'Cinder req', '(DELETE/GET)',
               'redirects*', 'Keystone req', 'tokens', 'Cinder req/backup',
               'all req/backup', 'wall time')
    rows = []
    for label, _ in SIDES:
        r = results[label]
        per = r['deleted'] or 1
        rows.append((label, '%d/%d' % (r['deleted'], count), r['cinder'],
                     '%d/%d' % (r['cinder_delete'], r['cinder_get']),
                     r['redirects'], r['keystone'], r['tokens'],
                     '%.2f' % (r['cinder'] / per),
                     '%.2f' % ((r['cinder'] + r['keystone']) / per),
                     common.seconds(r['seconds'])))
    plugin, anchor = results['plugin'], results['anchor']
    rows.append(('anchor/plugin', '', common.ratio(anchor['cinder'],
                                                   plugin['cinder']),
                 '', '', common.ratio(anchor['keystone'], plugin['keystone']),
                 common.ratio(anchor['tokens'], plugin['tokens']),
                 common.ratio(anchor['cinder'] / count,
                              plugin['cinder'] / count),
                 common.ratio(anchor['cinder'] + anchor['keystone'],
                              plugin['cinder'] + plugin['keystone']),
                 common.ratio(anchor['seconds'], plugin['seconds'])))
    common.print_table('Requests per deleted backup, N=%d per side' % count,
                       headers, rows)
    print('* redirects: 3xx answers (version discovery) followed straight '
          'to Cinder, not through the proxy; counted in "Cinder req".')
    met = (plugin['cinder'] == count and plugin['tokens'] == 1)
    print('target (plugin: %d Cinder requests = 1 per backup, 1 token): %s'
          % (count, 'met' if met else 'NOT met (%d Cinder requests, %d '
             'tokens)' % (plugin['cinder'], plugin['tokens'])))
    for label, _ in SIDES:
        left = results[label]['left']
        print('%s: %s' % (label, 'all %d backups gone at the server' % count
                          if not left else '%d still there: %s' % (
                              len(left), left)))


if __name__ == '__main__':
    sys.exit(main())
