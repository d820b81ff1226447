"""What backup-flows knows about a cloud: servers, server definitions,
snapshot sets and waits; used by tasks and operations.
"""
