"""Qt-free system touchpoints: processes, network facts, probes."""
