"""Qt-free backends: one module per kind of VPN software, and a static registry."""
