"""WireGuard: the backend driving wg-quick (Linux/macOS) or the WireGuard tunnel service (Windows)."""
