"""Sphinx configuration of the backup-flows documentation."""

extensions = [
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
]

config_generator_config_file = (
    '../../etc/backup-flows/backup-flows-config-generator.conf')
sample_config_basename = '_static/backup-flows'

project = 'backup-flows'
copyright = 'backup-flows developers'
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
html_static_path = ['_static']
