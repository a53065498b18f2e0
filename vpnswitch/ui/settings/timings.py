"""Timings and behaviour: every number within the range the engine accepts (``TIMING_RANGES``), so a spin box
cannot even hold a value that would be refused; the two cross-field rules are checked as you type.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vpnswitch.core.config import PREFERENCES, TIMING_ORDER, TIMING_RANGES, Behaviour, Timings
from vpnswitch.ui import texts
from vpnswitch.ui.qtcompat import emit

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("checks", ("probe_interval_min", "probe_interval_max", "probe_timeout", "probe_timeout_min", "confirm_delay",
                "failure_rounds", "standby_failure_rounds", "blocked_target_rounds", "stall_seconds")),
    ("watching", ("liveness_interval", "underlay_interval", "resume_grace")),
    ("switching", ("connect_timeout", "disconnect_timeout", "verify_timeout", "quarantine_initial",
                   "quarantine_max", "failback_interval", "failback_max_rate_kbps", "crash_loop_switches",
                   "crash_loop_window")),
)
INT_FIELDS = frozenset(f.name for f in fields(Timings) if f.type in ("int", int))
COUNT_FIELDS = frozenset({"failure_rounds", "standby_failure_rounds", "blocked_target_rounds",
                          "crash_loop_switches"})


class TimingsPage(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        body = QWidget(scroll)
        layout = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll)

        behaviour = QGroupBox(self.tr("Behaviour"), body)
        form = QFormLayout(behaviour)
        self.auto_switch = QCheckBox(self.tr("Switch automatically when the VPN stops working"), behaviour)
        self.failback = QCheckBox(self.tr("Move back to a higher profile once it works again"), behaviour)
        self.per_network = QCheckBox(self.tr("Remember which profile worked on each network"), behaviour)
        for check in (self.auto_switch, self.failback, self.per_network):
            check.toggled.connect(self.changed)
            form.addRow(check)
        self.preference = QComboBox(behaviour)
        self.preference.setObjectName("preference")
        labels = {"speed": self.tr("speed (fast VPNs first after a block)"),
                  "privacy": self.tr("privacy (Tor and obfuscated profiles first after a block)")}
        for code in PREFERENCES:
            self.preference.addItem(labels.get(code, code), code)
        self.preference.currentIndexChanged.connect(self.changed)
        form.addRow(self.tr("Prefer"), self.preference)
        layout.addWidget(behaviour)

        titles = {"checks": self.tr("Health checks"), "watching": self.tr("Watching"),
                  "switching": self.tr("Connecting and switching")}
        self.spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for group, names in GROUPS:
            box = QGroupBox(titles[group], body)
            group_form = QFormLayout(box)
            group_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
            for name in names:
                label, help_text = texts.timing(name)
                spin = self._spin(name)
                spin.setToolTip(help_text)
                caption = QLabel(label, box)
                caption.setToolTip(help_text)
                group_form.addRow(caption, spin)
            layout.addWidget(box)
        self.problems_label = QLabel(body)
        self.problems_label.setObjectName("timing_problems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet("color: #b3261e;")
        layout.addWidget(self.problems_label)
        layout.addStretch(1)
        self._problems: list[str] = []

    def _spin(self, name: str) -> QSpinBox | QDoubleSpinBox:
        lo, hi = TIMING_RANGES[name]
        spin: QSpinBox | QDoubleSpinBox
        if name in INT_FIELDS:
            spin = QSpinBox(self)
            spin.setRange(int(lo), int(hi))
            if name in COUNT_FIELDS:
                spin.setSuffix(" " + self.tr("times") if name == "crash_loop_switches" else " " + self.tr("rounds"))
        else:
            spin = QDoubleSpinBox(self)
            spin.setDecimals(1)
            spin.setRange(float(lo), float(hi))
            spin.setSingleStep(0.5 if hi <= 60 else 5.0)
            spin.setSuffix(" " + (self.tr("kB/s") if name == "failback_max_rate_kbps" else self.tr("s")))
        spin.setObjectName(f"timing_{name}")
        spin.setMinimumWidth(140)
        spin.setToolTip(self.tr("From %1 to %2").replace("%1", f"{lo:g}").replace("%2", f"{hi:g}"))
        spin.valueChanged.connect(self._edited)
        self.spins[name] = spin
        return spin

    def load(self, timings: Timings, behaviour: Behaviour) -> None:
        for name, value in asdict(timings).items():
            spin = self.spins[name]
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        for check, value in ((self.auto_switch, behaviour.auto_switch), (self.failback, behaviour.failback),
                             (self.per_network, behaviour.per_network_memory)):
            check.blockSignals(True)
            check.setChecked(value)
            check.blockSignals(False)
        self.preference.blockSignals(True)
        self.preference.setCurrentIndex(max(0, self.preference.findData(behaviour.preference)))
        self.preference.blockSignals(False)
        self.revalidate()

    def timings_data(self) -> dict[str, Any]:
        return {name: (int(spin.value()) if name in INT_FIELDS else round(float(spin.value()), 3))
                for name, spin in self.spins.items()}

    def behaviour_data(self) -> dict[str, Any]:
        return {"auto_switch": self.auto_switch.isChecked(), "failback": self.failback.isChecked(),
                "per_network_memory": self.per_network.isChecked(), "preference": self.preference.currentData()}

    def _edited(self, *_: Any) -> None:
        self.revalidate()
        emit(self.changed)

    def revalidate(self) -> None:
        """The config layer's order rules (``TIMING_ORDER``), said with the labels people see."""
        t = self.timings_data()
        bad = [(low, high) for low, high in TIMING_ORDER if t[low] > t[high]]
        problems = [self.tr("“%1” must not be more than “%2”.").replace("%1", texts.timing(low)[0])
                    .replace("%2", texts.timing(high)[0]) for low, high in bad]
        self._problems = problems
        self.problems_label.setText("\n".join(problems))
        self.problems_label.setVisible(bool(problems))
        flagged = {low for low, _ in bad}
        for low, _ in TIMING_ORDER:
            self.spins[low].setStyleSheet("background: #f9dedc;" if low in flagged else "")

    def problems(self) -> list[str]:
        return list(self._problems)
