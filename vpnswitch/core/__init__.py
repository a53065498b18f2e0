"""Qt-free core: configuration, the engine, health evaluation, history and secrets."""
