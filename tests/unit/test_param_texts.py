"""Every string a backend declares for its form is marked for translation (or is a name that stays Latin)."""

from __future__ import annotations

import ast
from pathlib import Path

from vpnswitch.backends import registry

SOURCE = Path(__file__).resolve().parents[2] / "vpnswitch" / "ui" / "param_texts.py"


def marked() -> tuple[set[str], set[str]]:
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    texts: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "QT_TRANSLATE_NOOP":
            context, text = (arg.value for arg in node.args if isinstance(arg, ast.Constant))
            assert context == "params"
            texts.add(text)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "NAMES":
            names = {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return texts, names


def test_every_declared_string_is_marked_for_translation() -> None:
    texts, names = marked()
    missing = []
    for name in registry.Catalog().names():
        for param in registry.backend_class(name).params_spec:
            for text in (param.label, param.help, param.file_filter, *(label for _, label in param.choices)):
                if text and text not in texts and text not in names:
                    missing.append(f"{name}.{param.key}: {text!r}")
    assert missing == [], "add these to vpnswitch/ui/param_texts.py:\n" + "\n".join(missing)
