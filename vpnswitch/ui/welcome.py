"""The first start: what was found on this computer, in the recommended order, and what each still needs.

Nothing connects until the user presses Start: the engine runs with no profile until then. Start saves the
settings with the ticked profiles in the order shown, which the engine applies at once (and later starts read).
"""

from __future__ import annotations

import html
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.core.config import Config, Profile
from vpnswitch.core.errors import VpnSwitchError
from vpnswitch.ui import facade, texts
from vpnswitch.ui.facade import FirstStart, Offer, RuntimePort
from vpnswitch.ui.resources import app_icon
from vpnswitch.ui.workers import Workers

OFFER_ROLE = Qt.ItemDataRole.UserRole + 2


class WelcomeWindow(QWidget):
    started = Signal(object)  # the Config now in use
    settings_requested = Signal()

    def __init__(self, port: RuntimePort, workers: Workers, first: FirstStart, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("welcome_window")
        self.port = port
        self.workers = workers
        self.first = first
        self.profiles: dict[str, Profile] = {p.name: p for p in first.proposal.profiles}
        self.setWindowTitle(self.tr("Welcome to vpnswitch"))
        self.setWindowIcon(app_icon())
        self.resize(640, 560)

        layout = QVBoxLayout(self)
        intro = QLabel(self.tr(
            "vpnswitch keeps you online by moving to another way out when one stops working. This is what it "
            "found on this computer, in the order it suggests: the fastest first, disguised ones next, Tor "
            "last. Untick what you do not want, drag to change the order. Nothing connects until you press "
            "Start."), self)
        intro.setObjectName("intro")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget(self)
        self.list.setObjectName("offers")
        self.list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        layout.addWidget(self.list, 1)
        self.empty = QLabel(self.tr("No VPN app, configuration or Tor was found. Import a WireGuard or OpenVPN "
                                    "file, or add a profile in Settings."), self)
        self.empty.setObjectName("nothing_found")
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        self.notice = QLabel(self)
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        layout.addWidget(self.notice)

        buttons = QHBoxLayout()
        self.import_button = QPushButton(self.tr("Import a WireGuard or OpenVPN file…"), self)
        self.import_button.setObjectName("import_file")
        self.import_button.clicked.connect(self.import_file)
        self.settings_button = QPushButton(self.tr("Settings…"), self)
        self.settings_button.setObjectName("open_settings")
        self.settings_button.clicked.connect(self.settings_requested)
        self.start_button = QPushButton(self.tr("Start"), self)
        self.start_button.setObjectName("start")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.settings_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        layout.addLayout(buttons)
        for offer in first.offers:
            self._add(offer)
        self._update()

    # ------------------------------------------------------------------------------------------- offers

    def needs_text(self, need: str, offer: Offer) -> str:
        if need == "login":
            return self.tr("Sign in to %1 in its own app first, if you have not.").replace("%1", offer.app)
        if need == "import":
            return self.tr("Needs a configuration file: import one.")
        return need

    def way_out_text(self, kind: str) -> str:
        return {"plain": self.tr("plain VPN, fastest"), "obfuscated": self.tr("disguised, for when VPNs are blocked"),
                "tor": self.tr("Tor, the last resort"), "registered": self.tr("registered VPN")}.get(kind, kind)

    def _add(self, offer: Offer) -> None:
        info = facade.backend_info(offer.backend)
        kind = texts.backend(offer.backend, info.display_name) if info else offer.backend
        way_out = self.way_out_text(offer.way_out)
        lines = [f"<b>{html.escape(offer.name)}</b> — {html.escape(kind)} · {html.escape(way_out)}"]
        if offer.note:
            found = self.tr("Found: %1").replace("%1", offer.note)
            lines.append(f"<small>{html.escape(found)}</small>")
        for need in offer.needs:
            lines.append(f"<small style='color:#1565c0'>➜ {html.escape(self.needs_text(need, offer))}</small>")
        for warning in offer.warnings:
            lines.append(f"<small style='color:#a05a00'>⚠ {html.escape(warning)}</small>")
        item = QListWidgetItem(self.list)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if offer.enabled else Qt.CheckState.Unchecked)
        item.setData(OFFER_ROLE, offer.name)
        label = QLabel("<br>".join(lines))
        label.setWordWrap(True)
        label.setContentsMargins(24, 4, 4, 4)
        label.setTextFormat(Qt.TextFormat.RichText)
        item.setSizeHint(label.sizeHint())
        self.list.setItemWidget(item, label)

    def chosen(self) -> list[Profile]:
        """Ticked profiles in the order shown: the failover order to save."""
        out = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(replace(self.profiles[item.data(OFFER_ROLE)], enabled=True))
        return out

    def _update(self) -> None:
        self.empty.setVisible(self.list.count() == 0)
        self.list.setVisible(self.list.count() > 0)

    def say(self, text: str, error: bool = False) -> None:
        self.notice.setText(text)
        self.notice.setStyleSheet("color: #b3261e;" if error else "")
        self.notice.setVisible(bool(text))

    # --------------------------------------------------------------------------------------------- import

    def choose_file(self) -> Path | None:
        chosen, _ = QFileDialog.getOpenFileName(self, self.tr("Import a WireGuard or OpenVPN file"), str(Path.home()),
                                                "*.conf *.ovpn")
        return Path(chosen) if chosen else None

    def import_file(self) -> None:
        path = self.choose_file()
        if path is None:
            return
        backend = "openvpn" if path.suffix.lower() == ".ovpn" else "wireguard"
        self.import_button.setEnabled(False)
        self.workers.submit(lambda: facade.import_tunnel_file(backend, path),
                            lambda params: self._imported(backend, path, params), self._import_failed)

    def _imported(self, backend: str, path: Path, params: dict[str, object]) -> None:
        self.import_button.setEnabled(True)
        name, n = path.stem, 2
        while name in self.profiles:
            name, n = f"{path.stem} {n}", n + 1
        self.profiles[name] = Profile(name, backend, dict(params))
        self._add(Offer(path.name, backend, name, dict(params), str(path), way_out="plain"))
        self.list.insertItem(0, self.list.takeItem(self.list.count() - 1))  # a file of one's own: fastest, first
        self._update()
        self.say(self.tr("%1 was added.").replace("%1", name))

    def _import_failed(self, error: BaseException) -> None:
        self.import_button.setEnabled(True)
        self.say(error.explain() if isinstance(error, VpnSwitchError) else str(error), error=True)

    # ---------------------------------------------------------------------------------------------- start

    def start(self) -> None:
        config: Config = replace(self.first.proposal, profiles=tuple(self.chosen()))
        self.start_button.setEnabled(False)
        port = self.port
        self.say(self.tr("Starting…"))
        self.workers.submit(lambda: port.save_config(config), lambda _outcome: self._started(config),
                            self._start_failed)

    def _started(self, config: Config) -> None:
        self.started.emit(config)
        self.close()

    def _start_failed(self, error: BaseException) -> None:
        self.start_button.setEnabled(True)
        self.say(self.tr("Could not save the settings: %1").replace(
            "%1", error.explain() if isinstance(error, VpnSwitchError) else str(error)), error=True)
