"""The status window: the way out in use, its health and latency (with a live chart), the ladder of profiles,
the last switch, and Switch now / Pause.

Opened by a left click on the tray icon or "Status…" in its menu. Imported only then, and Qt Charts with it:
the idle tray never pays for either.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QMargins, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.ui import facade, texts
from vpnswitch.ui.facade import RuntimePort, Snapshot
from vpnswitch.ui.resources import app_icon
from vpnswitch.ui.status_model import LastSwitch, active_latency, duration, ladder, last_switch
from vpnswitch.ui.tray import status_line
from vpnswitch.ui.workers import Workers

POINTS = 60  # samples on the chart: about the last ten minutes at the default pace
RUNG_COLOURS = {"active": "#1e7d32", "ready": "#1e7d32", "standby-ready": "#1565c0", "quarantined": "#a05a00",
                "error": "#b3261e", "disabled": "#6b6b6b", "busy": "#1565c0"}


class StatusWindow(QWidget):
    switch_requested = Signal(str)
    pause_requested = Signal(bool)

    def __init__(self, port: RuntimePort, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("status_window")
        self.port = port
        self.workers = workers
        self.snapshot: Snapshot = port.snapshot()
        self.samples: deque[tuple[str, float]] = deque(maxlen=POINTS)  # (profile, ms) of the rounds seen
        self._last_check: str | None = None
        self.switch: LastSwitch | None = None
        self.setWindowTitle(self.tr("vpnswitch status"))
        self.setWindowIcon(app_icon())
        self.resize(760, 620)

        layout = QVBoxLayout(self)
        self.headline = QLabel(self)
        self.headline.setObjectName("headline")
        self.headline.setWordWrap(True)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.headline.setFont(font)
        layout.addWidget(self.headline)
        self.details = QLabel(self)
        self.details.setObjectName("details")
        self.details.setWordWrap(True)
        layout.addWidget(self.details)

        self.series = QLineSeries()
        self.series.setColor(QColor("#1565c0"))
        chart = QChart()
        chart.addSeries(self.series)
        chart.legend().hide()
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        self.x_axis, self.y_axis = QValueAxis(), QValueAxis()
        self.x_axis.setLabelsVisible(False)
        self.x_axis.setRange(0, POINTS - 1)
        self.y_axis.setLabelFormat("%d")
        self.y_axis.setTitleText(self.tr("latency (ms)"))
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.x_axis)
        self.series.attachAxis(self.y_axis)
        self.chart_view = QChartView(chart, self)
        self.chart_view.setObjectName("latency_chart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(150)
        layout.addWidget(self.chart_view, 1)

        box = QGroupBox(self.tr("Ways out, in the order they are tried"), self)
        box_layout = QVBoxLayout(box)
        self.ladder = QTreeWidget(box)
        self.ladder.setObjectName("ladder")
        self.ladder.setRootIsDecorated(False)
        self.ladder.setHeaderLabels([self.tr("Profile"), self.tr("State"), self.tr("Why / what to do")])
        self.ladder.setColumnWidth(0, 140)
        self.ladder.setColumnWidth(1, 290)
        self.ladder.setWordWrap(True)
        box_layout.addWidget(self.ladder)
        layout.addWidget(box, 1)

        self.last = QLabel(self)
        self.last.setObjectName("last_switch")
        self.last.setWordWrap(True)
        layout.addWidget(self.last)

        buttons = QHBoxLayout()
        self.switch_button = QPushButton(self.tr("Switch now"), self)
        self.switch_button.setObjectName("switch_now")
        self.switch_button.setToolTip(self.tr("Move to the selected profile, or to the next one that is ready."))
        self.switch_button.clicked.connect(self._switch_now)
        self.pause_button = QPushButton(self)
        self.pause_button.setObjectName("pause")
        self.pause_button.clicked.connect(lambda: self.pause_requested.emit(not self.snapshot.paused))
        buttons.addWidget(self.switch_button)
        buttons.addWidget(self.pause_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self._tick = QTimer(self)  # the time left on a resting profile counts down
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._render)
        self._tick.start()
        self.update_snapshot(self.snapshot)
        self.refresh()

    # --------------------------------------------------------------------------------------------- data

    def refresh(self) -> None:
        """Read the recorded latency and the last switch on a worker (files), then draw them."""
        port = self.port

        def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            return port.latency(), port.history()

        self.workers.submit(read, self._loaded, lambda _error: None)

    def _loaded(self, data: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        latency, history = data
        recorded = [(str(e.get("profile")), float(e["latency_ms"])) for e in latency[-POINTS:]
                    if isinstance(e.get("latency_ms"), (int, float))]
        self.samples = deque([*recorded, *self.samples][-POINTS:], maxlen=POINTS)
        self.switch = last_switch(history)
        self._render()

    def update_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        if snapshot.last_check and snapshot.last_check != self._last_check and snapshot.active:
            self._last_check = snapshot.last_check
            value = active_latency(snapshot)
            if value is not None:
                self.samples.append((snapshot.active, value))
        self._render()

    def note_switch(self, switch: LastSwitch) -> None:
        self.switch = switch
        self._render()

    # ------------------------------------------------------------------------------------------ drawing

    def _render(self) -> None:
        s = self.snapshot
        self.headline.setText(status_line(s))
        parts = []
        if s.active:
            profile = next((p for p in s.profiles if p.name == s.active), None)
            if profile is not None:
                info = facade.backend_info(profile.backend)
                label = texts.backend(profile.backend, info.display_name) if info else profile.backend
                parts.append(self.tr("Way out: %1 (%2)").replace("%1", s.active).replace("%2", label))
            parts.append(self.tr("Health: %1").replace("%1", texts.verdict(s.verdict)))
            latency = active_latency(s)
            if latency is not None:
                parts.append(self.tr("Latency: %1 ms").replace("%1", str(round(latency))))
        self.details.setText(" · ".join(parts) if parts else self.tr("No way out is in use."))

        values = [ms for _name, ms in self.samples]  # whichever way out was in use: a switch shows as a step
        self.series.replace([_point(i, v) for i, v in enumerate(values)])
        top = max(values, default=100.0)
        self.y_axis.setRange(0, max(50.0, top * 1.2))

        current = self.ladder.currentItem()
        selected = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        self.ladder.clear()
        for index, rung in enumerate(ladder(s), start=1):
            item = QTreeWidgetItem([f"{index}. {rung.name}", rung.text, rung.detail])
            item.setData(0, Qt.ItemDataRole.UserRole, rung.name)
            item.setForeground(1, QColor(RUNG_COLOURS.get(rung.kind, "#000000")))
            item.setToolTip(1, rung.text)
            item.setToolTip(2, rung.detail)
            self.ladder.addTopLevelItem(item)
            if rung.name == selected:
                self.ladder.setCurrentItem(item)

        if self.switch is None:
            self.last.setText(self.tr("No switch yet."))
        else:
            sw = self.switch
            text = self.tr("Last switch at %1: %2 → %3.").replace("%1", sw.when.strftime("%H:%M:%S")).replace(
                "%2", sw.from_profile or "—").replace("%3", sw.to_profile)
            if sw.reason:
                text += " " + self.tr("Why: %1.").replace("%1", sw.reason)
            if sw.outage_s is not None:
                text += " " + self.tr("Outage: %1.").replace("%1", duration(sw.outage_s))
            self.last.setText(text)
        self.pause_button.setText(self.tr("Resume automatic switching") if s.paused
                                  else self.tr("Pause automatic switching"))
        self.switch_button.setEnabled(self.next_profile() is not None)

    # ------------------------------------------------------------------------------------------ actions

    def next_profile(self) -> str | None:
        """The selected profile, else the first enabled one after the active one that is not resting."""
        item = self.ladder.currentItem()
        if item is not None and item.data(0, Qt.ItemDataRole.UserRole) != self.snapshot.active:
            return str(item.data(0, Qt.ItemDataRole.UserRole))
        profiles = [p for p in self.snapshot.profiles if p.enabled and p.name != self.snapshot.active
                    and p.state not in ("quarantined", "error", "disabled")]
        return profiles[0].name if profiles else None

    def _switch_now(self) -> None:
        target = self.next_profile()
        if target is not None:
            self.switch_requested.emit(target)


def _point(x: int, y: float) -> Any:
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


