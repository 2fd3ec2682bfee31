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

"""The ``vbs-global-options`` directive: the plugin's --os-vbs-* options.

The table is built from vbsclient.plugin.build_option_parser itself, so
it cannot drift from what ``openstack --help`` shows: each option, its
environment variable (from the "(Env: ...)" the help ends with), the
clouds.yaml key openstacksdk reads it from (the option's name without
"os_"), and the help text.
"""

import argparse
import re

from docutils import nodes
from docutils.parsers import rst

from vbsclient import plugin

_ENV = re.compile(r'\s*\(Env: (?P<name>[A-Z0-9_]+)\)\s*$')
HEADER = ('option', 'environment variable', 'clouds.yaml key', 'meaning')


def global_options():
    """Yield (option, variable, key, meaning) for each --os-vbs-* option."""
    # No -h: every option of this parser is then the plugin's. argparse
    # has no public list of a parser's options; cliff.sphinxext reads
    # _actions too.
    parser = argparse.ArgumentParser(prog='openstack', add_help=False)
    plugin.build_option_parser(parser)
    for action in parser._actions:
        # argparse's own expansion: "%%" is a literal "%".
        meaning = action.help % dict(vars(action), prog=parser.prog)
        env = _ENV.search(meaning)
        yield (
            '%s %s' % (action.option_strings[0], action.metavar),
            env.group('name') if env else '',
            action.dest[len('os_'):] if action.dest.startswith('os_')
            else action.dest,
            _ENV.sub('', meaning),
        )


def _literal_cell(text):
    return nodes.entry('', nodes.paragraph('', '', nodes.literal(text, text)))


def _text_cell(text):
    return nodes.entry('', nodes.paragraph(text, text))


def _row(cells):
    return nodes.row('', *cells)


class GlobalOptions(rst.Directive):
    has_content = False

    def run(self):
        widths = (30, 25, 20, 45)
        group = nodes.tgroup(cols=len(widths))
        group.extend(nodes.colspec(colwidth=w) for w in widths)
        group += nodes.thead('', _row(_text_cell(h) for h in HEADER))
        body = nodes.tbody()
        for option, env, key, meaning in global_options():
            body += _row((_literal_cell(option), _literal_cell(env),
                          _literal_cell(key), _text_cell(meaning)))
        group += body
        return [nodes.table('', group)]


def setup(app):
    app.add_directive('vbs-global-options', GlobalOptions)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
