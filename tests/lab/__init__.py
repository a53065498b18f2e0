"""Censorship lab in Linux network namespaces for end-to-end tests (see harness.py)."""
