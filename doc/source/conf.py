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

"""Sphinx configuration of the python-vbsclient documentation.

Build it with ``tox -e docs``: the package must be installed, because the
CLI reference is generated from its registered commands
(cliff.sphinxext) and the library reference from its code (autodoc).
"""

from importlib import metadata
import os
import sys

# Local extensions (doc/source/_exts), e.g. the global options table.
sys.path.insert(0, os.path.join(os.path.abspath(os.path.dirname(__file__)),
                                '_exts'))

project = 'python-vbsclient'
copyright = 'python-vbsclient developers'
author = 'python-vbsclient developers'
release = metadata.version('python-vbsclient')
version = release

extensions = [
    'sphinx.ext.autodoc',
    'cliff.sphinxext',
    'vbs_options',
]

# The command reference: "openstack vbs backup ..." as typed. Naming our
# own distribution here drops cliff's "provided by the ... plugin" epilog,
# which would repeat itself on every command of these pages.
autoprogram_cliff_application = 'openstack'
autoprogram_cliff_app_dist_name = 'python-vbsclient'
# cliff's generic formatter options, the same on every OpenStackClient
# command; -f/--format and -c/--column stay, as they change what delete
# prints.
autoprogram_cliff_ignored = [
    '--help', '--quote', '--noindent', '--max-width', '--fit-width',
    '--print-empty', '--sort-column', '--sort-ascending',
    '--sort-descending',
]

# Options as typed: Sphinx's smart quotes would turn the "--wait" of the
# generated help texts into an en dash, and copy-paste would break.
smartquotes = False

# The library page names the public members it documents.
autodoc_member_order = 'bysource'

# Plain Sphinx: openstackdocstheme expects a project hosted on OpenDev
# (its repository, bug tracker and release series), which this is not.
html_theme = 'alabaster'
html_title = 'python-vbsclient'
templates_path = []
exclude_patterns = []
source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'
