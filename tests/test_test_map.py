"""tests/README.md names where the tests of every module of the package are, and stays true."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PACKAGE = TESTS.parent / "wxprivacy"
ROWS = re.compile(r"^\| (.+?) \| (.+?) \|$", re.MULTILINE)


def _modules() -> set[str]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _table() -> dict[str, list[str]]:
    text = (TESTS / "README.md").read_text("utf-8")
    where: dict[str, list[str]] = {}
    for modules, files in ROWS.findall(text):
        for module in re.findall(r"`(wxprivacy[\w.]*)`", modules):
            where.setdefault(module, []).extend(re.findall(r"`([\w/]+\.py)`", files))
    return where


def test_every_module_is_listed_once_with_tests_that_exist() -> None:
    table = _table()
    assert sorted(_modules() - set(table)) == []  # a new module: say where its tests are
    assert sorted(set(table) - _modules()) == []  # a module gone: drop its row
    for module, files in table.items():
        assert files, module
        for name in files:
            assert (TESTS / name).is_file(), f"{module}: {name}"


def test_every_test_file_is_named_in_the_map() -> None:
    named = {name for files in _table().values() for name in files}
    on_disk = {str(p.relative_to(TESTS)) for p in TESTS.rglob("test_*.py")}
    assert sorted(on_disk - named - {"test_test_map.py", "test_docs_examples.py"}) == []
