"""Sphinx configuration of the backup-flows documentation."""

extensions = [
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
]

config_generator_config_file = (
    '../../etc/backup-flows/backup-flows-config-generator.conf')
sample_config_basename = '_static/backup-flows'

policy_generator_config_file = (
    '../../etc/backup-flows/backup-flows-policy-generator.conf')
sample_policy_basename = '_static/backup-flows'

project = 'backup-flows'
copyright = 'backup-flows developers'
master_doc = 'index'
exclude_patterns = ['_build']
html_theme = 'alabaster'
html_static_path = ['_static']
