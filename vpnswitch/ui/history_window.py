"""History: a timeline of switches and verdicts with their reasons, and probe latency per profile over time.

Files are read by a worker; the chart is Qt Charts, loaded only when this window opens (the tray alone stays
light).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, QMargins, Qt
from PySide6.QtGui import QFontDatabase, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.ui import history_model, texts
from vpnswitch.ui.facade import RuntimePort
from vpnswitch.ui.history_model import Row, Series
from vpnswitch.ui.resources import app_icon
from vpnswitch.ui.workers import Workers


class HistoryWindow(QWidget):
    def __init__(self, port: RuntimePort, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("history_window")
        self.port = port
        self.workers = workers
        self.rows: list[Row] = []
        self.series: list[Series] = []
        self.loading = False
        self.setWindowTitle(self.tr("vpnswitch history"))
        self.setWindowIcon(app_icon())
        self.resize(960, 680)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Day"), self))
        self.day = QComboBox(self)
        self.day.setObjectName("day")
        self.day.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.day.currentIndexChanged.connect(self._render)
        top.addWidget(self.day)
        top.addStretch(1)
        self.status = QLabel(self)
        self.status.setObjectName("history_status")
        top.addWidget(self.status)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setObjectName("refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableWidget(0, 4, splitter)
        self.table.setObjectName("timeline")
        self.table.setHorizontalHeaderLabels([self.tr("Time"), self.tr("Event"), self.tr("Profile"),
                                              self.tr("Details")])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)

        self.chart = QChart()
        self.chart.setTitle(self.tr("Latency through each profile (ms)"))
        self.chart.setMargins(QMargins(4, 4, 4, 4))
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_view = QChartView(self.chart, splitter)
        self.chart_view.setObjectName("latency_chart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(260)
        # A time axis runs left to right in Urdu too (and Qt Charts elides every axis label when mirrored).
        self.chart_view.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart_view)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
        self.refresh()

    # ------------------------------------------------------------------------------------------ loading

    def refresh(self) -> None:
        if self.loading:
            return
        self.loading = True
        self.refresh_button.setEnabled(False)
        self.status.setText(self.tr("Loading…"))
        port = self.port

        def load() -> tuple[list[Row], list[Series]]:
            return history_model.timeline(port.history()), history_model.latency_series(port.latency())

        self.workers.submit(load, self._loaded, self._failed)

    def _loaded(self, result: tuple[list[Row], list[Series]]) -> None:
        self.loading = False
        self.refresh_button.setEnabled(True)
        self.rows, self.series = result
        selected = self.day.currentData()
        self.day.blockSignals(True)
        self.day.clear()
        self.day.addItem(self.tr("All days"), None)
        for day in history_model.days(self.rows, self.series):
            self.day.addItem(day.isoformat(), day.isoformat())
        index = self.day.findData(selected) if selected is not None else 0
        self.day.setCurrentIndex(max(0, index))
        self.day.blockSignals(False)
        self._render()

    def _failed(self, error: BaseException) -> None:
        self.loading = False
        self.refresh_button.setEnabled(True)
        self.status.setText(self.tr("The history could not be read: %1").replace("%1", str(error)))

    # ---------------------------------------------------------------------------------------- rendering

    def _render(self, *_: Any) -> None:
        chosen = self.day.currentData()
        day = date.fromisoformat(chosen) if isinstance(chosen, str) else None
        rows, series = history_model.on_day(self.rows, self.series, day)
        self.status.setText(self.tr("%1 events").replace("%1", str(len(rows))))
        self._fill_table(rows, all_days=day is None)
        self._fill_chart(series, all_days=day is None)

    def _fill_table(self, rows: list[Row], *, all_days: bool) -> None:
        self.table.setRowCount(len(rows))
        fmt = "%Y-%m-%d %H:%M:%S" if all_days else "%H:%M:%S"
        for index, row in enumerate(rows):
            items = [row.when.strftime(fmt), texts.history_kind(row.kind), row.profile, self.details(row)]
            for column, text in enumerate(items):
                item = QTableWidgetItem(text)
                if column == 3:
                    item.setToolTip(text)
                self.table.setItem(index, column, item)
        self.table.resizeRowsToContents()

    def details(self, row: Row) -> str:
        """What happened and why, from the entry's own words (reasons are recorded by the engine)."""
        e = row.entry
        kind = row.kind
        if kind == "switch":
            text = self.tr("%1 → %2: %3").replace("%1", str(e.get("from") or "—")).replace(
                "%2", str(e.get("to") or "—")).replace("%3", str(e.get("reason") or ""))
            if isinstance(e.get("outage_s"), (int, float)):
                text += " " + self.tr("(offline for %1 s)").replace("%1", f"{e['outage_s']:.1f}")
            return text
        if kind == "verdict":
            text = texts.verdict(str(e.get("verdict", "")))
            return f"{text}: {e['reason']}" if e.get("reason") else text
        if kind == "connected":
            return self.tr("verified in %1 s").replace("%1", f"{e.get('took_s', 0):.1f}")
        if kind == "user":
            action = {"switch": self.tr("switch to %1").replace("%1", str(e.get("profile", ""))),
                      "pause": self.tr("paused automatic switching"),
                      "resume": self.tr("resumed automatic switching")}
            return action.get(str(e.get("action")), str(e.get("action", "")))
        if kind == "hold":
            return self.tr("%1 switches in a short time; holding still").replace("%1", str(e.get("switches", "")))
        if kind == "resumed":
            return self.tr("asleep for %1 s").replace("%1", str(e.get("gap_s", "")))
        if kind == "online":
            return str(e.get("network") or "")
        for key in ("reason", "message"):
            if e.get(key):
                return str(e[key])
        return ""

    def _fill_chart(self, series: list[Series], *, all_days: bool) -> None:
        chart = self.chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        # Axis labels are digits: a Latin UI font keeps them compact (a tall Urdu face makes Qt Charts elide them);
        # Urdu titles still render through font fallback.
        plain = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
        x_axis = QDateTimeAxis()
        x_axis.setLabelsFont(plain)
        x_axis.setTitleFont(plain)
        x_axis.setFormat("MM-dd HH:mm" if all_days else "HH:mm")
        x_axis.setTitleText(self.tr("Time"))
        y_axis = QValueAxis()
        y_axis.setLabelsFont(plain)
        y_axis.setTitleFont(plain)
        y_axis.setTitleText(self.tr("ms"))
        y_axis.setLabelFormat("%d")
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        lo = hi = None
        top = 0.0
        for s in series:
            colour = None
            for index, run in enumerate(history_model.runs(s.points)):
                line = QLineSeries()
                line.setName(s.profile)
                for when, value in run:
                    ms = int(when.timestamp() * 1000)
                    line.append(float(ms), value)
                    lo = ms if lo is None else min(lo, ms)
                    hi = ms if hi is None else max(hi, ms)
                    top = max(top, value)
                chart.addSeries(line)
                line.attachAxis(x_axis)
                line.attachAxis(y_axis)
                if colour is None:
                    colour = line.color()
                else:
                    # Later pieces of the same profile: same colour, one legend entry.
                    line.setColor(colour)
                    for marker in chart.legend().markers(line):
                        marker.setVisible(False)
                line.setObjectName(f"{s.profile}#{index}")
        if lo is not None and hi is not None:
            if hi == lo:
                hi = lo + 60_000
            x_axis.setRange(QDateTime.fromMSecsSinceEpoch(lo), QDateTime.fromMSecsSinceEpoch(hi))
        y_axis.setRange(0, max(50.0, top * 1.15))
        y_axis.applyNiceNumbers()
        chart.legend().setVisible(bool(series))
