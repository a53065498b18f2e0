"""Where vpnswitch keeps its files (platformdirs), with one override for tests and portable use."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from vpnswitch import APP_ID


@dataclass(frozen=True)
class Paths:
    config_file: Path
    state_dir: Path
    cache_dir: Path
    log_dir: Path
    runtime_dir: Path
    # With --config, the instance gets its own socket, so the CLI reaches the instance using that file.
    control_name: str = "control.sock"
    # Where XDG login items go; None: the desktop's own ($XDG_CONFIG_HOME/autostart).
    login_items_home: Path | None = None

    @property
    def history_file(self) -> Path:
        return self.state_dir / "history.jsonl"

    @property
    def memory_file(self) -> Path:
        return self.state_dir / "memory.json"

    @property
    def control_socket(self) -> Path:
        return self.runtime_dir / self.control_name

    @classmethod
    def default(cls, config_file: Path | None = None) -> Paths:
        """Platform paths; ``VPNSWITCH_HOME`` puts everything under one folder (tests, portable installs)."""
        control = "control.sock"
        if config_file is not None:
            digest = hashlib.sha256(str(config_file.resolve()).encode()).hexdigest()[:10]
            control = f"control-{digest}.sock"
        home = os.environ.get("VPNSWITCH_HOME")
        if home:
            base = Path(home)
            return cls(
                config_file=config_file or base / "config" / "config.json",
                state_dir=base / "state",
                cache_dir=base / "cache",
                log_dir=base / "log",
                runtime_dir=base / "run",
                control_name=control,
                login_items_home=base / "login",
            )
        runtime = platformdirs.user_runtime_path(APP_ID)
        return cls(
            config_file=config_file or platformdirs.user_config_path(APP_ID) / "config.json",
            state_dir=platformdirs.user_state_path(APP_ID),
            cache_dir=platformdirs.user_cache_path(APP_ID),
            log_dir=platformdirs.user_log_path(APP_ID),
            runtime_dir=runtime,
            control_name=control,
        )


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` readable by this user only; runtime and state dirs hold sockets and history."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path
