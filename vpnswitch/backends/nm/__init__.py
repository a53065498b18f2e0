"""NetworkManager: the backend, its D-Bus client, the nmcli fallback, shared model, WireGuard import."""
