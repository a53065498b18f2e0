"""OpenVPN 2.x: the backend, and the management-interface client it follows the tunnel through."""
