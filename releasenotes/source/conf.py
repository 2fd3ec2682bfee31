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

"""Sphinx configuration of the python-vbsclient release notes.

Build them with ``tox -e releasenotes``. reno reads the notes of
releasenotes/notes/ from the git history, so this needs a git clone,
not an exported tree.
"""

project = 'python-vbsclient release notes'
copyright = 'python-vbsclient developers'
author = 'python-vbsclient developers'

extensions = [
    'reno.sphinxext',
]

# Plain Sphinx, as for the documentation (see doc/source/conf.py).
html_theme = 'alabaster'
html_title = 'python-vbsclient release notes'
templates_path = []
exclude_patterns = []
source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'
