"""Tor: the backend, its control-port client, where tor and its transports are found, and its torrc."""
