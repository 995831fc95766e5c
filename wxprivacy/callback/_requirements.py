"""Imported first by :mod:`wxprivacy.callback`: one line naming the ``callback`` extra when
``cryptography`` or ``defusedxml`` is missing, instead of a traceback deep in an import."""

from __future__ import annotations

import importlib.util

__all__: list[str] = []

for _package in ("cryptography", "defusedxml"):
    if importlib.util.find_spec(_package) is None:
        raise ModuleNotFoundError(
            f"wxprivacy.callback needs the callback extra ({_package} is not installed): "
            "pip install 'wxprivacy[callback]'",
            name=_package,
        )
