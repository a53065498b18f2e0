"""Qt-free runtime: drives the engine, runs its actions, serves the control socket."""
