"""Words the engine speaks in codes ("quarantined", "blocked-target"), shown to people in their language.

The tables mark strings for translation without translating at import time (the language can change while
the app runs); the functions translate when called and fall back to the code itself for anything unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

VERDICTS = {
    "unknown": QT_TRANSLATE_NOOP("Verdict", "not checked yet"),
    "healthy": QT_TRANSLATE_NOOP("Verdict", "working"),
    "degraded": QT_TRANSLATE_NOOP("Verdict", "partly working"),
    "failing": QT_TRANSLATE_NOOP("Verdict", "failing"),
    "down": QT_TRANSLATE_NOOP("Verdict", "down"),
    "leaking": QT_TRANSLATE_NOOP("Verdict", "leaking outside the VPN"),
    "blocked-target": QT_TRANSLATE_NOOP("Verdict", "a site is blocked"),
    "dns-poisoned": QT_TRANSLATE_NOOP("Verdict", "working, but this network's DNS lies about a site"),
    "dns-blocked": QT_TRANSLATE_NOOP("Verdict", "working, but this network's DNS is blocked"),
}

PROFILE_STATES = {
    "active": QT_TRANSLATE_NOOP("ProfileState", "active"),
    "connecting": QT_TRANSLATE_NOOP("ProfileState", "connecting"),
    "verifying": QT_TRANSLATE_NOOP("ProfileState", "checking"),
    "disconnecting": QT_TRANSLATE_NOOP("ProfileState", "disconnecting"),
    "standby": QT_TRANSLATE_NOOP("ProfileState", "standby"),
    "quarantined": QT_TRANSLATE_NOOP("ProfileState", "resting after a failure"),
    "error": QT_TRANSLATE_NOOP("ProfileState", "needs attention"),
    "disabled": QT_TRANSLATE_NOOP("ProfileState", "disabled"),
}

# A hot standby's background state, shown next to it in the tray menu.
WARM_STATES = {
    "starting": QT_TRANSLATE_NOOP("WarmState", "starting in the background"),
    "ready": QT_TRANSLATE_NOOP("WarmState", "ready in the background"),
    "not ready": QT_TRANSLATE_NOOP("WarmState", "not ready"),
}

ROLES = {
    "canary": QT_TRANSLATE_NOOP("Role", "canary (any site that should always work)"),
    "must-reach": QT_TRANSLATE_NOOP("Role", "must reach (a site you need)"),
}

HISTORY_KINDS = {
    "switch": QT_TRANSLATE_NOOP("HistoryKind", "switched"),
    "connected": QT_TRANSLATE_NOOP("HistoryKind", "connected"),
    "verdict": QT_TRANSLATE_NOOP("HistoryKind", "health"),
    "verify-failed": QT_TRANSLATE_NOOP("HistoryKind", "check failed"),
    "connect-failed": QT_TRANSLATE_NOOP("HistoryKind", "could not connect"),
    "disconnect-failed": QT_TRANSLATE_NOOP("HistoryKind", "could not disconnect"),
    "error": QT_TRANSLATE_NOOP("HistoryKind", "needs attention"),
    "hold": QT_TRANSLATE_NOOP("HistoryKind", "holding"),
    "exhausted": QT_TRANSLATE_NOOP("HistoryKind", "no working VPN"),
    "offline": QT_TRANSLATE_NOOP("HistoryKind", "network lost"),
    "online": QT_TRANSLATE_NOOP("HistoryKind", "network back"),
    "suspending": QT_TRANSLATE_NOOP("HistoryKind", "going to sleep"),
    "resumed": QT_TRANSLATE_NOOP("HistoryKind", "woke from sleep"),
    "user": QT_TRANSLATE_NOOP("HistoryKind", "your action"),
    "dns": QT_TRANSLATE_NOOP("HistoryKind", "DNS problem"),
    "dns-leak": QT_TRANSLATE_NOOP("HistoryKind", "DNS leak"),
}

# Backend names that are words rather than brands; brands (WireGuard, Mullvad VPN, …) are shown as they are.
BACKENDS = {
    "command": QT_TRANSLATE_NOOP("Backend", "Custom commands"),
    "app": QT_TRANSLATE_NOOP("Backend", "VPN app (no command line)"),
    "tailscale": QT_TRANSLATE_NOOP("Backend", "Tailscale exit node"),
}

SECRET_KEYS = {
    "secret": QT_TRANSLATE_NOOP("Secret", "Password or token"),
    "password": QT_TRANSLATE_NOOP("Secret", "Password"),
    "token": QT_TRANSLATE_NOOP("Secret", "Token"),
}

_RANDOM_PAUSE = QT_TRANSLATE_NOOP("Timing", "Each pause is picked at random between the shortest and the longest, "
                                           "so the checks have no rhythm a firewall could spot.")
# (label, help) for every timing, in the order the settings page shows them.
TIMINGS = {
    "probe_interval_min": (QT_TRANSLATE_NOOP("Timing", "Shortest pause between checks"), _RANDOM_PAUSE),
    "probe_interval_max": (QT_TRANSLATE_NOOP("Timing", "Longest pause between checks"), _RANDOM_PAUSE),
    "probe_timeout": (QT_TRANSLATE_NOOP("Timing", "Wait for a site"),
                      QT_TRANSLATE_NOOP("Timing", "The longest one check waits for a site to answer. Once a "
                                                  "VPN's usual answer time is known, checks wait half as long "
                                                  "again as its slowest recent answer, and longer after a miss.")),
    "probe_timeout_min": (QT_TRANSLATE_NOOP("Timing", "Shortest wait for a site"),
                          QT_TRANSLATE_NOOP("Timing", "Even on a very fast VPN, a check waits at least this "
                                                      "long.")),
    "confirm_delay": (QT_TRANSLATE_NOOP("Timing", "Confirm after"),
                      QT_TRANSLATE_NOOP("Timing", "Pause before re-checking when something looks wrong.")),
    "failure_rounds": (QT_TRANSLATE_NOOP("Timing", "Failed rounds before switching"),
                       QT_TRANSLATE_NOOP("Timing", "A VPN is given up only after this many failed rounds.")),
    "standby_failure_rounds": (QT_TRANSLATE_NOOP("Timing", "Failed rounds before a ready standby"),
                               QT_TRANSLATE_NOOP("Timing", "When the next choice is a standby already running and "
                                                           "checked in the background, switching to it takes a "
                                                           "moment, so fewer failed rounds are needed.")),
    "blocked_target_rounds": (QT_TRANSLATE_NOOP("Timing", "Rounds before a blocked site counts"),
                              QT_TRANSLATE_NOOP("Timing", "Rounds in which only a site you need fails before "
                                                          "another VPN is tried.")),
    "stall_seconds": (QT_TRANSLATE_NOOP("Timing", "Stalled traffic after"),
                      QT_TRANSLATE_NOOP("Timing", "Data goes out but nothing comes back for this long (less on "
                                                  "a fast VPN): check at once.")),
    "liveness_interval": (QT_TRANSLATE_NOOP("Timing", "Watch the VPN every"),
                          QT_TRANSLATE_NOOP("Timing", "How often the VPN's process and network interface are "
                                                      "looked at (cheap).")),
    "underlay_interval": (QT_TRANSLATE_NOOP("Timing", "Watch the network every"),
                          QT_TRANSLATE_NOOP("Timing", "How often Wi-Fi or cable is checked, so an outage there "
                                                      "is not blamed on the VPN.")),
    "connect_timeout": (QT_TRANSLATE_NOOP("Timing", "Give up connecting after"),
                        QT_TRANSLATE_NOOP("Timing", "How long a VPN may take to connect.")),
    "disconnect_timeout": (QT_TRANSLATE_NOOP("Timing", "Give up disconnecting after"),
                           QT_TRANSLATE_NOOP("Timing", "How long a VPN may take to disconnect.")),
    "verify_timeout": (QT_TRANSLATE_NOOP("Timing", "Give up verifying after"),
                       QT_TRANSLATE_NOOP("Timing", "How long a new connection has to prove it carries traffic.")),
    "resume_grace": (QT_TRANSLATE_NOOP("Timing", "Grace after sleep"),
                     QT_TRANSLATE_NOOP("Timing", "After the computer wakes, wait this long before judging.")),
    "quarantine_initial": (QT_TRANSLATE_NOOP("Timing", "Rest a failed VPN for"),
                           QT_TRANSLATE_NOOP("Timing", "A VPN that failed is not tried again for this long; "
                                                       "the time doubles on each failure.")),
    "quarantine_max": (QT_TRANSLATE_NOOP("Timing", "Longest rest"),
                       QT_TRANSLATE_NOOP("Timing", "The doubling stops here.")),
    "failback_interval": (QT_TRANSLATE_NOOP("Timing", "Return to a preferred VPN at most every"),
                          QT_TRANSLATE_NOOP("Timing", "How often vpnswitch may move back up your list.")),
    "failback_max_rate_kbps": (QT_TRANSLATE_NOOP("Timing", "Do not move back while downloading faster than"),
                               QT_TRANSLATE_NOOP("Timing", "A running download is never interrupted to move "
                                                           "back.")),
    "crash_loop_switches": (QT_TRANSLATE_NOOP("Timing", "Stop switching after"),
                            QT_TRANSLATE_NOOP("Timing", "This many switches in the window below means the "
                                                        "network itself is unstable: vpnswitch holds still.")),
    "crash_loop_window": (QT_TRANSLATE_NOOP("Timing", "…switches within"),
                          QT_TRANSLATE_NOOP("Timing", "The window for the rule above.")),
}


def _tr(context: str, text: object) -> str:
    return QCoreApplication.translate(context, str(text))


def verdict(code: str) -> str:
    return _tr("Verdict", VERDICTS[code]) if code in VERDICTS else code


def profile_state(code: str) -> str:
    return _tr("ProfileState", PROFILE_STATES[code]) if code in PROFILE_STATES else code


def warm_state(code: str) -> str:
    return _tr("WarmState", WARM_STATES[code]) if code in WARM_STATES else code


def role(code: str) -> str:
    return _tr("Role", ROLES[code]) if code in ROLES else code


def history_kind(code: str) -> str:
    return _tr("HistoryKind", HISTORY_KINDS[code]) if code in HISTORY_KINDS else code


def backend(code: str, display_name: str) -> str:
    return _tr("Backend", BACKENDS[code]) if code in BACKENDS else display_name


def secret_key(key: str) -> str:
    return _tr("Secret", SECRET_KEYS[key]) if key in SECRET_KEYS else key


def timing(name: str) -> tuple[str, str]:
    label, help_text = TIMINGS.get(name, (name, ""))
    return _tr("Timing", label), (_tr("Timing", help_text) if help_text else "")


def _engine(text: object) -> Callable[[re.Match[str]], str]:
    return lambda m: QCoreApplication.translate("Engine", str(text)).replace("%1", m.group(1) if m.groups() else "")


# The engine's notification titles, recognised so they can be shown translated. Details stay as the engine
# wrote them (they carry names, addresses and numbers); an unknown title is shown as it is.
ENGINE_TITLES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Switched to (.+)$"), _engine(QT_TRANSLATE_NOOP("Engine", "Switched to %1"))),
    (re.compile(r"^Back online through (.+)$"), _engine(QT_TRANSLATE_NOOP("Engine", "Back online through %1"))),
    (re.compile(r"^(.+) is not working$"), _engine(QT_TRANSLATE_NOOP("Engine", "%1 is not working"))),
    (re.compile(r"^(.+) cannot reach a site$"), _engine(QT_TRANSLATE_NOOP("Engine", "%1 cannot reach a site"))),
    (re.compile(r"^(.+) needs attention$"), _engine(QT_TRANSLATE_NOOP("Engine", "%1 needs attention"))),
    (re.compile(r"^Switching too often$"), _engine(QT_TRANSLATE_NOOP("Engine", "Switching too often"))),
    (re.compile(r"^No working VPN$"), _engine(QT_TRANSLATE_NOOP("Engine", "No working VPN"))),
    (re.compile(r"^No profiles$"), _engine(QT_TRANSLATE_NOOP("Engine", "No profiles"))),
    (re.compile(r"^Every profile needs attention$"),
     _engine(QT_TRANSLATE_NOOP("Engine", "Every profile needs attention"))),
    (re.compile(r"^This network's DNS lies about a site$"),
     _engine(QT_TRANSLATE_NOOP("Engine", "This network's DNS lies about a site"))),
    (re.compile(r"^This network's DNS is blocked$"),
     _engine(QT_TRANSLATE_NOOP("Engine", "This network's DNS is blocked"))),
    (re.compile(r"^DNS lookups leave outside (.+)$"),
     _engine(QT_TRANSLATE_NOOP("Engine", "DNS lookups leave outside %1"))),
]


def engine_title(title: str) -> str:
    for pattern, render in ENGINE_TITLES:
        match = pattern.match(title)
        if match:
            return render(match)
    return title
