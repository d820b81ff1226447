"""Test drivers for the backup-flows minicloud.

They are copied into the minicloud's own virtualenv at every start (see
``tools/minicloud/minicloud``); they are never imported by backup_flows.
"""
