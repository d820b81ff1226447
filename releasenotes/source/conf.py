"""Sphinx configuration of the backup-flows release notes (reno)."""

extensions = [
    'reno.sphinxext',
]

project = 'backup-flows Release Notes'
copyright = 'backup-flows developers'
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
