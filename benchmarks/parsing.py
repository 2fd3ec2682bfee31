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

"""Error bodies are parsed in linear time, hostile or not.

vbsclient.api.error_bodies.parse_body over pages that made earlier regular
expressions quadratic (unclosed tags, repeated), at sizes N, 2N and 4N
up to the 64 KiB that is ever parsed, next to a kind page of the same
size: each row prints the time at each size as a ratio to the time at
N. Linear parsing doubles with the size (ratios about 2 and 4); a
quadratic one would show about 4 and 16. Median of --repeat runs.

    .venv/bin/python benchmarks/parsing.py [--repeat 7]
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from vbsclient.api import error_bodies  # noqa: E402

SIZES = (16 * 1024, 32 * 1024, 64 * 1024)
MOST_RATIO = 6.0
PAGES = {
    'unclosed <title': b'<title',
    'unclosed <a after >': b'<a',
    'kind HTML': b'<p>Bad Gateway</p> ',
}


def page(unit, size):
    return (b'>' if unit == b'<a' else b'') + unit * (size // len(unit))


def seconds(body, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        error_bodies.parse_body(body)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=7)
    options = parser.parse_args()
    print('%-22s %10s %8s %8s' % ('page', 'N (ms)', '2N / N', '4N / N'))
    worst = 0.0
    for name, unit in PAGES.items():
        times = [seconds(page(unit, size), options.repeat) for size in SIZES]
        worst = max(worst, times[2] / times[0])
        print('%-22s %10.2f %8.2f %8.2f' % (
            name, times[0] * 1000, times[1] / times[0], times[2] / times[0]))
    print('target: 4N / N at most %g for every page (linear: about 4; '
          'quadratic: about 16): %s' % (MOST_RATIO, 'met' if worst <=
                                        MOST_RATIO else 'NOT met'))


if __name__ == '__main__':
    main()
