"""The app's language: English or Urdu (right to left), from the setting or the system locale.

Translations are Qt ``.qm`` files built from ``resources/i18n/*.ts`` (``python -m vpnswitch.ui.i18n_build``).
For Urdu the layout is mirrored and a font with good Urdu coverage is chosen: Naskh-style faces render
cleanly in widgets, while Nastaliq's tall ascenders get clipped by Qt's single-line widgets.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QLocale, Qt, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from vpnswitch.ui.resources import i18n_dir

log = logging.getLogger(__name__)

SUPPORTED = ("en", "ur")
RIGHT_TO_LEFT = frozenset({"ur"})
# Native names, so people can find their language whatever language the app is in now.
NATIVE_NAMES = {"en": "English", "ur": "اردو"}
URDU_FONTS = ("Noto Naskh Arabic", "Noto Sans Arabic", "Segoe UI", "Geeza Pro", "DejaVu Sans")


def resolve(setting: str, system_locale: str | None = None) -> str:
    """The language to use for a setting of "system", "en", "ur" (or an unknown code: English)."""
    if setting == "system":
        name = (system_locale if system_locale is not None else QLocale.system().name()).lower()
        code = name.replace("-", "_").split("_")[0]
        return code if code in SUPPORTED else "en"
    return setting if setting in SUPPORTED else "en"


def pick_font_family(language: str, families: list[str] | None = None) -> str | None:
    if language != "ur":
        return None
    available = set(families if families is not None else QFontDatabase.families())
    return next((f for f in URDU_FONTS if f in available), None)


class Localizer:
    """Installs one translator at a time and keeps a reference (a collected QTranslator stops working)."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.language = "en"
        self._translator: QTranslator | None = None
        self._base_font = QFont(app.font())

    def apply(self, setting: str) -> str:
        language = resolve(setting)
        if self._translator is not None:
            self.app.removeTranslator(self._translator)
            self._translator = None
        if language != "en":
            translator = QTranslator(self.app)
            qm = i18n_dir() / f"vpnswitch_{language}.qm"
            if translator.load(str(qm)):
                self.app.installTranslator(translator)
                self._translator = translator
            else:
                log.warning("no translation file %s (build it with python -m vpnswitch.ui.i18n_build); "
                            "using English", qm)
                language = "en"
        self.language = language
        direction = Qt.LayoutDirection.RightToLeft if language in RIGHT_TO_LEFT else Qt.LayoutDirection.LeftToRight
        self.app.setLayoutDirection(direction)
        family = pick_font_family(language)
        font = QFont(self._base_font)
        if family:
            font.setFamilies([family, *self._base_font.families()])
            font.setPointSizeF(max(self._base_font.pointSizeF(), 10.0) * 1.1)
        self.app.setFont(font)
        QLocale.setDefault(QLocale(QLocale.Language.Urdu, QLocale.Country.Pakistan) if language == "ur"
                           else QLocale(QLocale.Language.English))
        return language
