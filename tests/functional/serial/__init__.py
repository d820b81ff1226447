"""Tests that change the cloud itself (restart its services): tools/test.sh
runs them alone, after the others, never beside another test."""
