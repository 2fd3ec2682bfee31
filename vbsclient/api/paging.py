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

"""Following a list's pages: each "next" link's query, until the last
page, with the guards that stop a server's list that never ends.
"""

import urllib.parse

from vbsclient.api import answers
from vbsclient.api import errors

# A list that has not ended after this many pages never will.
MAX_PAGES = 10000


def pages(request, path, key, filters, most=MAX_PAGES, report=None):
    """Yield the records of a list, following its "<key>_links".

    request(method, path, params=...) sends one page's request and
    returns its answer (or raises its error). A list that needs more
    than `most` pages raises ListCutShort once those are read;
    report.pages counts the pages read (listing.Report).
    """
    query = first = {k: v for k, v in filters.items() if v is not None}
    noun = key[:-1]  # "backups" -> "backup"
    pages_seen = set()
    while query is not None:
        page = tuple(sorted(query.items()))
        if page in pages_seen:
            # A server whose "next" link points back would loop forever.
            raise errors.VbsError(
                'The server sent the same %s list page twice; stopping.'
                % noun)
        if len(pages_seen) >= min(most, MAX_PAGES):
            raise errors.ListCutShort(
                'The server\'s %s list did not end after %d pages; '
                'stopping.' % (noun, len(pages_seen)))
        pages_seen.add(page)
        answer = request('GET', path, params=query)
        if report is not None:
            report.pages += 1
        document = answers.document(answer)
        records = answers.records(answer, document, key)
        yield from records
        query = next_page_query(document, key, first)
        if query is not None and not records:
            # An empty page cannot be followed by more records.
            raise errors.VbsError(
                'The server sent an empty %s list page with a link to a '
                'next one; stopping.' % noun)


def next_page_query(document, key, first):
    """The query of the "next" link, or None on the last page.

    Only the query is taken: the link's host and path are the server's idea
    of its own address, which behind a proxy or gateway may not be the
    endpoint we were configured with, and our token goes where we request.
    A filter of the first query that the link drops is sent again: the
    next page is of the same list.
    """
    links = document.get(key + '_links') or ()
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get('rel') == 'next' \
                and isinstance(link.get('href'), str) and link['href']:
            query = urllib.parse.urlsplit(link['href']).query
            return dict(first, **dict(urllib.parse.parse_qsl(query)))
    return None
