"""Tests of the cluster commands (`status`, `release --check-live`) against a fake API server."""
