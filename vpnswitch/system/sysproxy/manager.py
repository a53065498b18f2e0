"""Which desktops' proxy settings we change, and the crash-safe store of what they were before."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.core.files import atomic_write
from vpnswitch.system.autostart import Autostart
from vpnswitch.system.runner import Runner

log = logging.getLogger(__name__)

STORE_NAME = "system-proxy.json"
STORE_VERSION = 1
GNOME_FAMILY = ("gnome", "unity", "budgie", "cinnamon", "pantheon", "mate", "xfce", "lxde", "lxqt", "deepin")


class ProxyDesktop(Protocol):
    """One place where a system proxy lives (a desktop's settings, the Windows registry, macOS services)."""

    name: str

    def read(self) -> dict[str, Any]:
        """The current settings we may change, JSON-able, comparable with a later read."""
        ...

    def apply(self, host: str, port: int) -> None:
        """Route the desktop's traffic through the SOCKS5 proxy at host:port (names resolved by the proxy)."""
        ...

    def write(self, settings: Mapping[str, Any]) -> None:
        """Put back settings returned by ``read``, or some of their keys: only the keys given are written."""
        ...

    def close(self) -> None:
        """Release helpers (the Windows PAC server) once our setting is gone."""
        ...


def detect_desktops(
    runner: Runner,
    *,
    platform: str = sys.platform,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> list[ProxyDesktop]:
    """The proxy settings of the session we run in; empty without a desktop session (a headless daemon)."""
    env = os.environ if env is None else env
    if platform == "win32":
        from vpnswitch.system.sysproxy.windows import WindowsInternetSettings

        return [WindowsInternetSettings()]
    if platform == "darwin":
        from vpnswitch.system.sysproxy.macos import MacNetworkServices

        return [MacNetworkServices(runner)]
    desktop = env.get("XDG_CURRENT_DESKTOP", "").lower()
    if not desktop:
        return []
    if "kde" in desktop:
        from vpnswitch.system.sysproxy.kde import KdeProxy

        tools = KdeProxy.find_tools(which)
        return [KdeProxy(runner, *tools)] if tools else []
    if any(name in desktop for name in GNOME_FAMILY) and which("gsettings"):
        from vpnswitch.system.sysproxy.gnome import GnomeProxy

        return [GnomeProxy(runner)]
    return []


class SystemProxy:
    """Sets and restores the system proxy; safe to call from any worker thread."""

    def __init__(self, state_dir: Path, runner: Runner | None = None,
                 desktops: Callable[[], list[ProxyDesktop]] | None = None,
                 login_restore: Autostart | None = None) -> None:
        self.store_path = state_dir / STORE_NAME
        self._runner = runner or Runner()
        self._detect = desktops or (lambda: detect_desktops(self._runner))
        # Armed while our setting is in place, so a crash is undone at the next login even without us.
        self._login_restore = login_restore
        self._desktops: list[ProxyDesktop] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------- public

    def enable(self, host: str, port: int) -> str:
        """Point every detected desktop at socks5://host:port; returns what was done, for the log."""
        with self._lock:
            desktops = self._get_desktops()
            if not desktops:
                return "no desktop session found: the system proxy was left alone"
            store = self._load()
            entries = store.setdefault("desktops", {})
            for desktop in desktops:
                if desktop.name not in entries:  # keep the *original* setting across Tor-to-Tor switches
                    entries[desktop.name] = {"saved": desktop.read()}
            self._save(store)  # before any change: a crash from here on is recovered at the next start
            self._arm_login_restore(True)
            done = []
            for desktop in desktops:
                try:
                    desktop.apply(host, port)
                    entries[desktop.name]["applied"] = desktop.read()
                    done.append(desktop.name)
                except VpnSwitchError as exc:
                    log.warning("could not set the %s proxy: %s", desktop.name, exc.message)
                finally:
                    self._save(store)
            return f"system proxy set to socks5://{host}:{port} ({', '.join(done) or 'nowhere'})"

    def restore(self) -> str:
        """Put back what the user had; a no-op when nothing of ours is in place."""
        with self._lock:
            return self._restore_locked()

    def _restore_locked(self) -> str:
        store = self._load()
        entries: dict[str, Any] = store.get("desktops", {})
        if not entries:
            self._remove()
            return "nothing to restore"
        by_name = {d.name: d for d in self._get_desktops()}
        messages = []
        for name in list(entries):
            desktop = by_name.get(name)
            if desktop is None:
                messages.append(f"{name}: not reachable from this session; kept for later")
                continue
            try:
                messages.append(f"{name}: {_restore_desktop(desktop, entries[name])}")
                desktop.close()
                del entries[name]
            except VpnSwitchError as exc:
                messages.append(f"{name}: {exc.message}")
        if entries:
            self._save(store)
        else:
            self._remove()
        return "; ".join(messages)

    def recover(self) -> str | None:
        """At start: a setting left behind by a crash is restored. None when there was none."""
        if not self.store_path.exists():
            self._arm_login_restore(False)  # an item left by a run that could not remove it
            return None
        message = self.restore()
        log.info("system proxy left by an earlier run: %s", message)
        return message

    def recover_in_background(self) -> threading.Thread | None:
        """``recover`` on a thread of its own, so a GUI thread never waits for gsettings or the registry.

        The lock is taken here, before returning, and released by that thread: an ``enable`` that comes
        later (Tor connecting) waits for the recovery instead of racing it.
        """
        if not self.store_path.exists():
            return None
        self._lock.acquire()

        def run() -> None:
            try:
                log.info("system proxy left by an earlier run: %s", self._restore_locked())
            except Exception:
                log.exception("restoring the system proxy left by an earlier run failed")
            finally:
                self._lock.release()

        thread = threading.Thread(target=run, name="sysproxy-recover", daemon=True)
        thread.start()
        return thread

    @property
    def engaged(self) -> bool:
        return self.store_path.exists()

    # ------------------------------------------------------------------------------------ storage

    def _get_desktops(self) -> list[ProxyDesktop]:
        if self._desktops is None:
            self._desktops = self._detect()
        return self._desktops

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.store_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": STORE_VERSION}
        except (OSError, ValueError) as exc:
            # Never lose the user's original setting: keep the unreadable file aside.
            aside = self.store_path.with_suffix(".unreadable")
            log.warning("saved proxy settings unreadable (%s); kept as %s", exc, aside)
            try:
                os.replace(self.store_path, aside)
            except OSError:
                pass
            return {"version": STORE_VERSION}
        return data if isinstance(data, dict) else {"version": STORE_VERSION}

    def _save(self, store: dict[str, Any]) -> None:
        store["version"] = STORE_VERSION
        self.store_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.store_path, json.dumps(store, indent=1, sort_keys=True).encode())

    def _remove(self) -> None:
        try:
            self.store_path.unlink()
        except FileNotFoundError:
            pass
        self._arm_login_restore(False)

    def _arm_login_restore(self, armed: bool) -> None:
        if self._login_restore is None:
            return
        try:
            self._login_restore.enable() if armed else self._login_restore.disable()
        except VpnSwitchError as exc:  # the in-process restore still works; only the crash net is missing
            log.warning("could not %s the login item that restores the proxy: %s",
                        "add" if armed else "remove", exc.message)


def _restore_desktop(desktop: ProxyDesktop, entry: Mapping[str, Any]) -> str:
    """Put back only the keys vpnswitch changed, and of those only the ones still as vpnswitch left them.

    A key the user changed by hand while ours was active is theirs now; a key we never changed is not
    written at all (so a setting made since, e.g. by another tool, survives the restore).
    """
    saved: Mapping[str, Any] = entry["saved"]
    applied: Mapping[str, Any] | None = entry.get("applied")
    current = desktop.read()
    if applied is None:
        # A crash between saving and recording what we applied: every key that differs now is ours.
        ours = {key for key in saved if current.get(key) != saved[key]}
        kept: list[str] = []
    else:
        changed = {key for key in saved if applied.get(key) != saved[key]}
        ours = {key for key in changed if current.get(key) == applied.get(key)}
        kept = sorted(changed - ours)
    if ours:
        desktop.write({key: saved[key] for key in saved if key in ours})
    if kept and not ours:
        return "changed by hand since; left as it is"
    if kept:
        return f"restored, except {', '.join(kept)} (changed by hand since)"
    return "restored"
