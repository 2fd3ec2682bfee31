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

"""Each backup once (vbsclient.api.dedup): names dropped as they repeat,
IDs claimed once, whatever their case.
"""

from concurrent import futures
import threading

from tests.unit.conftest import A
from tests.unit.conftest import B
from vbsclient.api import dedup


def test_repeated_names_are_dropped_and_the_order_kept():
    assert list(dedup.unique_names(
        ['nightly', 'weekly', 'nightly', 'Nightly', 'weekly'])) == [
            'nightly', 'weekly', 'Nightly']  # a name's case matters


def test_ids_pass_through_unique_names_to_be_claimed():
    assert list(dedup.unique_names([A, A, A.upper()])) == [A, A, A.upper()]


def test_unique_names_is_streamed():
    def endless():
        n = 0
        while True:
            yield 'name-%d' % (n % 3)
            n += 1
    names = dedup.unique_names(endless())
    assert [next(names) for _ in range(3)] == ['name-0', 'name-1', 'name-2']


def test_a_backup_is_claimed_the_first_time_only():
    claims = dedup.Claims()
    assert claims.claim(A)
    assert not claims.claim(A)
    assert claims.claim(B)
    assert claims.claim('not-a-uuid') and not claims.claim('not-a-uuid')


def test_an_id_is_one_backup_whatever_its_case():
    claims = dedup.Claims()
    assert claims.claim(A.upper())
    assert not claims.claim(A)
    assert A in claims and A.upper() in claims


def test_a_name_like_id_keeps_its_case():
    # Only a canonical UUID is compared without case: other IDs as written.
    claims = dedup.Claims()
    assert claims.claim('backup-X')
    assert claims.claim('backup-x')


def test_contains_tells_without_claiming():
    claims = dedup.Claims()
    assert A not in claims
    assert claims.claim(A)  # asking did not claim it
    assert A in claims and B not in claims


def test_of_many_threads_claiming_one_backup_one_wins():
    claims = dedup.Claims()
    start = threading.Barrier(16)

    def claim(_):
        start.wait()
        return claims.claim(A)
    with futures.ThreadPoolExecutor(16) as pool:
        won = list(pool.map(claim, range(16)))
    assert won.count(True) == 1
