"""Per-backend parameter editors. Each turns widgets into a params dict and says what it could not parse;
the backend's own ``validate_params`` judges the result, so the rules live in one place.

``command`` gets its own form (commands are typed like a terminal line and stored as argv lists, never as a
shell string); every other backend a form built from its declared parameters (``specform``). The JSON editor is
there behind "Advanced", validated the same way.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

Problem = tuple[str, str]


class ParamsEditor(QWidget):
    """Base: ``params()``, ``parse_problems()``, ``field_label(key)``; ``changed`` on every edit."""

    changed = Signal()

    def params(self) -> dict[str, Any]:
        raise NotImplementedError

    def parse_problems(self) -> list[Problem]:
        return []

    def field_label(self, key: str) -> str:
        return key


class CommandEditor(ParamsEditor):
    """The ``command`` backend: connect/disconnect/status commands, where traffic goes, mode, transport, secret."""

    COMMAND_KEYS = ("connect", "disconnect", "status")

    def __init__(self, params: Mapping[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._extra = {k: v for k, v in params.items()
                       if k not in (*self.COMMAND_KEYS, "interface", "proxy", "mode", "transport", "secret_env")}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.commands: dict[str, QLineEdit] = {}
        hints = {
            "connect": self.tr("e.g. /usr/bin/myvpn connect --server home"),
            "disconnect": self.tr("e.g. /usr/bin/myvpn disconnect"),
            "status": self.tr("optional: exits with 0 while connected"),
        }
        for key in self.COMMAND_KEYS:
            edit = QLineEdit(self)
            edit.setObjectName(f"cmd_{key}")
            edit.setPlaceholderText(hints[key])
            value = params.get(key)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                edit.setText(shlex.join(value))
            elif value is not None:
                edit.setText(str(value))
            edit.textChanged.connect(self.changed)
            self.commands[key] = edit
            form.addRow(self.field_label(key), edit)

        self.route_kind = QComboBox(self)
        self.route_kind.setObjectName("route_kind")
        self.route_kind.addItem(self.tr("a tunnel interface"), "interface")
        self.route_kind.addItem(self.tr("a local proxy"), "proxy")
        self.route_value = QLineEdit(self)
        self.route_value.setObjectName("route_value")
        route_row = QHBoxLayout()
        route_row.addWidget(self.route_kind)
        route_row.addWidget(self.route_value, 1)
        if params.get("proxy") is not None and params.get("interface") is None:
            self.route_kind.setCurrentIndex(1)
            self.route_value.setText(str(params.get("proxy")))
        else:
            self.route_value.setText(str(params.get("interface") or ""))
        self._route_placeholder()
        self.route_kind.currentIndexChanged.connect(self._route_placeholder)
        self.route_kind.currentIndexChanged.connect(self.changed)
        self.route_value.textChanged.connect(self.changed)
        form.addRow(self.tr("Traffic leaves through"), route_row)

        self.mode = QComboBox(self)
        self.mode.setObjectName("mode")
        self.mode.addItem(self.tr("connect command returns once connected"), "oneshot")
        self.mode.addItem(self.tr("connect command keeps running while connected"), "foreground")
        self.mode.setCurrentIndex(max(0, self.mode.findData(params.get("mode", "oneshot"))))
        self.mode.currentIndexChanged.connect(self.changed)
        form.addRow(self.tr("Mode"), self.mode)

        self.transport = QComboBox(self)
        self.transport.setObjectName("transport")
        for label, code in ((self.tr("unknown"), "unknown"), (self.tr("UDP (e.g. WireGuard)"), "udp"),
                            (self.tr("TCP (e.g. OpenVPN over TCP)"), "tcp"),
                            (self.tr("obfuscated (made to look like other traffic)"), "obfuscated")):
            self.transport.addItem(label, code)
        self.transport.setCurrentIndex(max(0, self.transport.findData(params.get("transport", "unknown"))))
        self.transport.currentIndexChanged.connect(self.changed)
        form.addRow(self.tr("Transport"), self.transport)

        self.secret_env = QLineEdit(self)
        self.secret_env.setObjectName("secret_env")
        self.secret_env.setPlaceholderText(self.tr("optional, e.g. VPN_PASSWORD"))
        self.secret_env.setText(str(params.get("secret_env") or ""))
        self.secret_env.textChanged.connect(self.changed)
        form.addRow(self.tr("Pass the secret in variable"), self.secret_env)

    def _route_placeholder(self) -> None:
        if self.route_kind.currentData() == "proxy":
            self.route_value.setPlaceholderText("socks5h://127.0.0.1:1080")
        else:
            self.route_value.setPlaceholderText("wg0, tun0 …")

    def field_label(self, key: str) -> str:
        labels = {
            "connect": self.tr("Connect command"),
            "disconnect": self.tr("Disconnect command"),
            "status": self.tr("Status command"),
            "interface": self.tr("Tunnel interface"),
            "proxy": self.tr("Local proxy"),
            "mode": self.tr("Mode"),
            "transport": self.tr("Transport"),
            "secret_env": self.tr("Secret variable"),
        }
        return labels.get(key, key)

    def _argv(self, key: str) -> list[str] | None:
        text = self.commands[key].text().strip()
        if not text:
            return None
        try:
            return shlex.split(text)
        except ValueError:
            return None

    def parse_problems(self) -> list[Problem]:
        problems = []
        for key in self.COMMAND_KEYS:
            text = self.commands[key].text().strip()
            if text:
                try:
                    shlex.split(text)
                except ValueError:
                    problems.append((key, self.tr("has an unmatched quote")))
        return problems

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = dict(self._extra)
        for key in self.COMMAND_KEYS:
            argv = self._argv(key)
            if argv:
                params[key] = argv
        value = self.route_value.text().strip()
        if value:
            params[str(self.route_kind.currentData())] = value
        if self.mode.currentData() != "oneshot":
            params["mode"] = self.mode.currentData()
        if self.transport.currentData() != "unknown":
            params["transport"] = self.transport.currentData()
        if self.secret_env.text().strip():
            params["secret_env"] = self.secret_env.text().strip()
        return params


class JsonParamsEditor(ParamsEditor):
    """Any backend: its parameters as a JSON object, checked as you type."""

    def __init__(self, params: Mapping[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel(self.tr("Parameters (JSON object):"), self)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("params_json")
        self.text.setPlainText(json.dumps(dict(params), indent=2, ensure_ascii=False))
        self.text.textChanged.connect(self.changed)
        layout.addWidget(hint)
        layout.addWidget(self.text)
        self._last_good: dict[str, Any] = dict(params)

    def _parse(self) -> tuple[dict[str, Any] | None, str]:
        text = self.text.toPlainText().strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, self.tr("line %1, column %2: %3").replace("%1", str(exc.lineno)).replace(
                "%2", str(exc.colno)).replace("%3", exc.msg)
        if not isinstance(value, dict):
            return None, self.tr("must be a JSON object: { \"key\": value, … }")
        return value, ""

    def parse_problems(self) -> list[Problem]:
        value, problem = self._parse()
        return [("", problem)] if value is None else []

    def params(self) -> dict[str, Any]:
        value, _ = self._parse()
        if value is not None:
            self._last_good = value
        return dict(self._last_good)


def editor_for(backend: str, params: Mapping[str, Any], parent: QWidget | None = None, *, workers: Any = None,
               as_json: bool = False) -> ParamsEditor:
    """The command form for ``command``, a form from the declared parameters for the others, JSON on request
    (or for a backend that declares nothing)."""
    from vpnswitch.ui import facade

    if as_json:
        return JsonParamsEditor(params, parent)
    if backend == "command":
        return CommandEditor(params, parent)
    info = facade.backend_info(backend)
    if info is not None and info.params_spec:
        from vpnswitch.ui.settings.specform import SpecEditor

        return SpecEditor(backend, info.params_spec, params, workers, parent)
    return JsonParamsEditor(params, parent)
