"""The Windows icon is drawn from the SVG at build time: a valid ICO with every size Windows asks for."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
MAKE_ICO = ROOT / "packaging" / "pyinstaller" / "make_ico.py"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def test_the_ico_holds_every_size_drawn_from_the_svg(tmp_path: Path) -> None:
    out = tmp_path / "vpnswitch.ico"
    subprocess.run([sys.executable, str(MAKE_ICO), str(ROOT / "resources" / "icons" / "vpnswitch.svg"), str(out)],
                   check=True, capture_output=True, timeout=120)
    data = out.read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(SIZES))
    for index, size in enumerate(SIZES):
        width, height, _c, _r, planes, bpp, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        assert (width or 256, height or 256, planes, bpp) == (size, size, 1, 32)
        image = QImage.fromData(data[offset:offset + length], "PNG")
        assert (image.width(), image.height()) == (size, size)
        centre = image.pixelColor(size // 2, size // 4)  # the blue shield, above the arrows
        assert centre.alpha() == 255 and centre.blue() > 150 > centre.red(), (size, centre.name())
        assert image.pixelColor(0, 0).alpha() == 0, size  # transparent around the shield


def test_no_ico_is_committed() -> None:
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "*.ico"], capture_output=True, text=True,
                             timeout=30)
    assert tracked.returncode != 0 or tracked.stdout.strip() == ""
