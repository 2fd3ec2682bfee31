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
