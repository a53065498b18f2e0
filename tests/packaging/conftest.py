"""Packaging tests read images with Qt: no display needed for that."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
