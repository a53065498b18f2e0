"""Probe targets: the sites that must answer through the active VPN, and a "Test now" that shows the results.

A test probes through the profile that is active now (testing another one would mean connecting it, which
disturbs the connection); every other profile shows the result of its last round.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.core.config import DEFAULT_EXPECT, ROLES, ProbeTarget, config_from_dict
from vpnswitch.core.errors import ConfigError
from vpnswitch.ui import texts
from vpnswitch.ui.facade import CheckReport, Snapshot
from vpnswitch.ui.qtcompat import emit

BAD = QBrush(QColor("#f9dedc"))
URL_COL, ROLE_COL, EXPECT_COL = 0, 1, 2


class LeftToRightDelegate(QStyledItemDelegate):
    """Addresses and status codes read left to right even in a right-to-left window (else "x.com/" shows as
    "/x.com")."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Any) -> None:
        super().initStyleOption(option, index)
        option.direction = Qt.LayoutDirection.LeftToRight

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Any) -> QWidget:
        editor = super().createEditor(parent, option, index)
        editor.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        return editor


def parse_codes(text: str) -> list[Any]:
    """"200, 204 301" → [200, 204, 301]; anything that is not a number is kept so validation can name it."""
    out: list[Any] = []
    for part in text.replace(",", " ").split():
        out.append(int(part) if part.isdigit() else part)
    return out


class TargetsPage(QWidget):
    changed = Signal()
    test_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._problems: list[str] = []
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Sites checked through the active VPN. Use sites from different companies as "
                               "canaries, plus the sites you actually need (for example x.com)."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("targets_table")
        self.table.setHorizontalHeaderLabels([self.tr("Address"), self.tr("Role"), self.tr("Good answers")])
        self.table.horizontalHeader().setSectionResizeMode(URL_COL, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(ROLE_COL, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(150)  # four sites visible at least
        self._ltr = LeftToRightDelegate(self.table)
        self.table.setItemDelegateForColumn(URL_COL, self._ltr)
        self.table.setItemDelegateForColumn(EXPECT_COL, self._ltr)
        self.table.itemChanged.connect(self._edited)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        top = QWidget(splitter)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add site"), self)
        self.add_button.setObjectName("add_target")
        self.add_button.clicked.connect(lambda: self.add_target(ProbeTarget("https://", "must-reach")))
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.remove_button.setObjectName("remove_target")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        self.test_button = QPushButton(self.tr("Test now"), self)
        self.test_button.setObjectName("test_now")
        self.test_button.clicked.connect(self.test_requested)
        buttons.addWidget(self.test_button)
        top_layout.addLayout(buttons)
        self.problems_label = QLabel(self)
        self.problems_label.setObjectName("target_problems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet("color: #b3261e;")
        top_layout.addWidget(self.problems_label)
        splitter.addWidget(top)

        box = QGroupBox(self.tr("Results"), splitter)
        results = QVBoxLayout(box)
        self.test_status = QLabel(self.tr("Press “Test now” to check the saved sites through the active VPN."),
                                  self)
        self.test_status.setObjectName("test_status")
        self.test_status.setWordWrap(True)
        results.addWidget(self.test_status)
        self.results = QTableWidget(0, 3, self)
        self.results.setObjectName("target_results")
        self.results.setHorizontalHeaderLabels([self.tr("Site"), self.tr("Result"), self.tr("Time")])
        self.results.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.verticalHeader().setVisible(False)
        self.results.setItemDelegateForColumn(0, LeftToRightDelegate(self.results))
        tables = QHBoxLayout()
        results.addLayout(tables)
        tables.addWidget(self.results, 3)
        self.profiles = QTableWidget(0, 3, self)
        self.profiles.setObjectName("profile_results")
        self.profiles.setHorizontalHeaderLabels([self.tr("Profile"), self.tr("State"), self.tr("Last latency")])
        self.profiles.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.profiles.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.profiles.verticalHeader().setVisible(False)
        tables.addWidget(self.profiles, 2)
        splitter.addWidget(box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)

    # ------------------------------------------------------------------------------------------ editing

    def load(self, targets: tuple[ProbeTarget, ...]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for target in targets:
            self._append(target)
        self.table.blockSignals(False)
        self.revalidate()

    def _append(self, target: ProbeTarget) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, URL_COL, QTableWidgetItem(target.url))
        combo = QComboBox(self.table)
        for code in ROLES:
            combo.addItem(texts.role(code), code)
        combo.setCurrentIndex(max(0, combo.findData(target.role)))
        combo.currentIndexChanged.connect(self._edited)
        self.table.setCellWidget(row, ROLE_COL, combo)
        self.table.setItem(row, EXPECT_COL, QTableWidgetItem(", ".join(str(c) for c in target.expect)))

    def add_target(self, target: ProbeTarget) -> None:
        self.table.blockSignals(True)
        self._append(target)
        self.table.blockSignals(False)
        self.table.setCurrentCell(self.table.rowCount() - 1, URL_COL)
        self._edited()

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self._edited()

    def targets_data(self) -> list[dict[str, Any]]:
        data = []
        for row in range(self.table.rowCount()):
            url_item = self.table.item(row, URL_COL)
            expect_item = self.table.item(row, EXPECT_COL)
            combo = self.table.cellWidget(row, ROLE_COL)
            codes = parse_codes(expect_item.text() if expect_item else "")
            data.append({
                "url": url_item.text().strip() if url_item else "",
                "role": combo.currentData() if isinstance(combo, QComboBox) else "canary",
                "expect": codes or list(DEFAULT_EXPECT),
            })
        return data

    def _edited(self, *_: Any) -> None:
        self.revalidate()
        emit(self.changed)

    def revalidate(self) -> None:
        """Validate with the config layer's own rules, and colour the cells it names."""
        data = self.targets_data()
        problems: list[str] = []
        bad_cells: set[tuple[int, int]] = set()
        try:
            config_from_dict({"targets": data})
        except ConfigError as exc:
            for line in exc.problems:
                where, _, problem = line.partition(": ")
                if not where.startswith("targets"):
                    continue
                row, column = _locate(where)
                if row is not None:
                    bad_cells.add((row, column))
                    problems.append(self.tr("Site %1: %2").replace("%1", str(row + 1)).replace("%2", problem))
                else:
                    problems.append(self.tr("At least one site is needed (two or more from different companies "
                                            "is better)."))
        self.table.blockSignals(True)
        for row in range(self.table.rowCount()):
            for column in (URL_COL, EXPECT_COL):
                item = self.table.item(row, column)
                if item is not None:
                    item.setBackground(BAD if (row, column) in bad_cells else QBrush())
        self.table.blockSignals(False)
        self._problems = problems
        self.problems_label.setText("\n".join(problems))
        self.problems_label.setVisible(bool(problems))

    def problems(self) -> list[str]:
        return list(self._problems)

    # ------------------------------------------------------------------------------------------- testing

    def set_testing(self, testing: bool) -> None:
        self.test_button.setEnabled(not testing)
        if testing:
            self.test_status.setText(self.tr("Testing…"))

    def show_report(self, report: CheckReport) -> None:
        self.set_testing(False)
        if not report.targets:
            self.test_status.setText(self.tr("Nothing to test: no profile is connected right now."))
        else:
            self.test_status.setText(self.tr("Tested through %1: %2").replace("%1", report.active or "?").replace(
                "%2", texts.verdict(report.verdict)))
        self.results.setRowCount(0)
        for target in report.targets:
            row = self.results.rowCount()
            self.results.insertRow(row)
            self.results.setItem(row, 0, QTableWidgetItem(str(target.get("url", ""))))
            if target.get("ok"):
                result = self.tr("answered (%1)").replace("%1", str(target.get("status")))
            else:
                result = self.tr("failed: %1").replace("%1", str(target.get("error") or target.get("status")))
            item = QTableWidgetItem(result)
            if not target.get("ok"):
                item.setBackground(BAD)
            self.results.setItem(row, 1, item)
            latency = target.get("latency_ms")
            self.results.setItem(row, 2, QTableWidgetItem(self.tr("%1 ms").replace("%1", f"{latency:.0f}")
                                                          if isinstance(latency, (int, float)) else "—"))

    def show_error(self, message: str) -> None:
        self.set_testing(False)
        self.test_status.setText(self.tr("The test could not run: %1").replace("%1", message))

    def update_snapshot(self, snapshot: Snapshot) -> None:
        self.profiles.setRowCount(0)
        for profile in snapshot.profiles:
            row = self.profiles.rowCount()
            self.profiles.insertRow(row)
            self.profiles.setItem(row, 0, QTableWidgetItem(profile.name))
            state = texts.profile_state(profile.state)
            if profile.reason:
                state += f": {profile.reason}"
            self.profiles.setItem(row, 1, QTableWidgetItem(state))
            latency = (self.tr("%1 ms").replace("%1", f"{profile.latency_ms:.0f}")
                       if profile.latency_ms is not None else "—")
            self.profiles.setItem(row, 2, QTableWidgetItem(latency))
        self.profiles.resizeColumnToContents(1)


def _locate(where: str) -> tuple[int | None, int]:
    """"targets[2].url" → (2, URL_COL); "targets" → (None, 0)."""
    if "[" not in where:
        return None, URL_COL
    index = where[where.index("[") + 1: where.index("]")]
    column = EXPECT_COL if where.endswith(".expect") else URL_COL
    return (int(index) if index.isdigit() else None), column
