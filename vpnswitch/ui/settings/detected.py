"""VPN apps found on this computer, each with a one-click "Add" that creates a profile for it."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.ui import facade
from vpnswitch.ui.facade import Offer
from vpnswitch.ui.qtcompat import emit
from vpnswitch.ui.workers import Workers


class DetectedPage(QWidget):
    add_requested = Signal(object)  # Offer

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.offers: list[Offer] = []
        self._added: set[tuple[str, str]] = set()
        self.scanned = False
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.status = QLabel(self.tr("Looking for VPN apps on this computer…"), self)
        self.status.setObjectName("detect_status")
        self.status.setWordWrap(True)
        top.addWidget(self.status, 1)
        self.rescan = QPushButton(self.tr("Look again"), self)
        self.rescan.setObjectName("rescan")
        self.rescan.clicked.connect(self.scan)
        top.addWidget(self.rescan)
        layout.addLayout(top)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        layout.addWidget(self.scroll_area, 1)
        self._render()

    def set_existing(self, profiles: list[tuple[str, str]]) -> None:
        """(backend, name) of profiles that exist, so their offers say "added"."""
        self._added = set(profiles)
        self._render()

    def scan(self) -> None:
        self.scanned = True
        self.rescan.setEnabled(False)
        self.status.setText(self.tr("Looking for VPN apps on this computer…"))
        self.workers.submit(facade.detect_offers, self._found, self._failed)

    def _found(self, offers: list[Offer]) -> None:
        self.offers = offers
        self.rescan.setEnabled(True)
        if offers:
            self.status.setText(self.tr("Found on this computer. Add the ones you want to use:"))
        else:
            self.status.setText(self.tr("No VPN apps were detected. You can still add a profile by hand on the "
                                        "Profiles page."))
        self._render()

    def _failed(self, error: BaseException) -> None:
        self.rescan.setEnabled(True)
        self.status.setText(self.tr("Looking for VPN apps failed: %1").replace("%1", str(error)))

    def _render(self) -> None:
        body = QWidget(self.scroll_area)
        layout = QVBoxLayout(body)
        for offer in self.offers:
            row = QHBoxLayout()
            text = f"<b>{html.escape(offer.name)}</b> — {html.escape(offer.app)}"
            if offer.note:
                text += f"<br><small>{html.escape(offer.note)}</small>"
            for warning in offer.warnings:
                text += f"<br><small style='color:#a05a00'>⚠ {html.escape(warning)}</small>"
            label = QLabel(text, body)
            label.setWordWrap(True)
            row.addWidget(label, 1)
            button = QPushButton(self.tr("Add"), body)
            button.setObjectName(f"add_offer:{offer.backend}:{offer.name}")
            if (offer.backend, offer.name) in self._added:
                button.setText(self.tr("Added"))
                button.setEnabled(False)
            button.clicked.connect(lambda _=False, o=offer: self._add(o))
            row.addWidget(button)
            layout.addLayout(row)
        layout.addStretch(1)
        old = self.scroll_area.takeWidget()
        if old is not None:
            old.deleteLater()
        self.scroll_area.setWidget(body)

    def _add(self, offer: Offer) -> None:
        self._added.add((offer.backend, offer.name))
        emit(self.add_requested, offer)
        self._render()
