"""Issue 13 §2: without an extra, one line says which to install (no traceback from deep inside).

Each case runs in a fresh interpreter where the extra's packages cannot be imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
import importlib.util
_find = importlib.util.find_spec
def _spec(name, *a):
    return None if name.split('.')[0] in {blocked!r} else _find(name, *a)
importlib.util.find_spec = _spec
"""


def run(blocked: set[str], code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = BLOCK.format(blocked=blocked) + code
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize("missing", [{"typer"}, {"rich"}, {"typer", "rich"}])
def test_the_command_line_without_the_cli_extra_names_it(missing: set[str]) -> None:
    done = run(missing, "from wxprivacy._cli_entry import main; main()")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line
    assert "pip install 'wxprivacy[cli]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("missing", ["cryptography", "defusedxml"])
def test_the_callback_package_without_its_extra_names_it(missing: str) -> None:
    code = (
        "try:\n    import wxprivacy.callback\nexcept ModuleNotFoundError as exc:\n"
        "    print(exc)\n    print(exc.name)\n"
    )
    done = run({missing}, code)
    assert done.returncode == 0, done.stderr
    message, name = done.stdout.strip().splitlines()
    assert "pip install 'wxprivacy[callback]'" in message and missing in message
    assert name == missing
