"""backup-flows: snapshot and backup service for OpenStack Nova servers."""
