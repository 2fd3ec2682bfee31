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

"""The contributor guide's table "Each concept has one home" names homes
that exist: every module it names, and every class, function or method
in them. A rename that forgets the table fails here.
"""

import functools
import importlib
import pathlib
import re

import pytest

GUIDE = (pathlib.Path(__file__).parents[2]
         / 'doc' / 'source' / 'contributor' / 'index.rst')
PATH = re.compile(r'``((?:api|osc)/\w+\.py)``')
NAME = re.compile(r'``([A-Za-z_][\w.]*)``')


def _table_rows():
    text = GUIDE.read_text()
    start = text.index('Each concept has one home')
    end = text.index('The nouns, from the wire up')
    rows = re.split(r'\n   \* - ', text[start:end])[2:]  # past the header
    return [' '.join(row.split()) for row in rows]


def _modules(row):
    """The modules a row names: by path, or by a name's first part."""
    package = _package_modules()
    return [importlib.import_module(
        'vbsclient.' + path[:-3].replace('/', '.'))
        for path in PATH.findall(row)] + [
        package[name.split('.')[0]] for name in NAME.findall(row)
        if name.split('.')[0] in package]


@functools.lru_cache(maxsize=None)
def _package_modules():
    root = pathlib.Path(__file__).parents[2] / 'vbsclient'
    return {path.stem: importlib.import_module(
        'vbsclient.%s.%s' % (path.parent.name, path.stem))
        for layer in ('api', 'osc') for path in (root / layer).glob('*.py')
        if path.stem != '__init__'}


def _walk(start, parts):
    for part in parts:
        start = getattr(start, part, None)
        if start is None:
            return None
    return start


def _resolves(name, modules, classes=()):
    """Whether `name` is in the code: a module of the package; a dotted
    path (Class.method, module.Class.method) in one of them; a name in
    one of the row's `modules`; a method of one of the row's `classes`.
    """
    package = _package_modules()
    parts = name.split('.')
    if name in package:
        return True
    if parts[0] in package and _walk(package[parts[0]], parts[1:]):
        return True
    where = list(modules) + list(classes)
    if len(parts) > 1:
        where += list(package.values())
    return any(_walk(start, parts) is not None for start in where)


def _classes(names, modules):
    return [getattr(module, name) for name in names for module in modules
            if isinstance(getattr(module, name, None), type)]


def test_the_table_has_its_rows():
    rows = _table_rows()
    assert len(rows) >= 15
    assert any('api/settle.py' in row for row in rows)


@pytest.mark.parametrize('row', _table_rows(),
                         ids=lambda row: row.split(' - ')[0][:40])
def test_every_home_the_table_names_exists(row):
    homes = row.split(' - ', 1)[1]
    modules = _modules(homes)
    assert modules, 'no module named in: %s' % homes
    names = [n for n in NAME.findall(homes)
             if not n.endswith('.py') and not n.startswith('-')
             and n not in ('--wait',)]
    classes = _classes(names, modules)
    missing = [n for n in names if not _resolves(n, modules, classes)]
    assert not missing, 'not in the code: %s' % missing


def test_a_name_not_in_the_code_is_caught():
    settle = importlib.import_module('vbsclient.api.settle')
    assert _resolves('deleted', [settle])
    assert not _resolves('NoSuchThing', [settle])
    assert not _resolves('Outcome.no_such_method', [settle])
    assert not _resolves('learn', [settle])  # a method of no class named


def test_the_layout_names_every_module():
    text = GUIDE.read_text()
    layout = text[text.index('\nLayout\n'):text.index('Each concept')]
    unnamed = [name for name in _package_modules()
               if '``%s.py``' % name not in layout]
    assert not unnamed, 'modules the layout does not name: %s' % unnamed
