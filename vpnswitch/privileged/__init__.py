"""The only code that runs as root: the service, its tunnel store, the leak guard and tunnel DNS."""
