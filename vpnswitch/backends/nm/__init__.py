"""NetworkManager: D-Bus client, nmcli fallback, shared model, WireGuard import."""
