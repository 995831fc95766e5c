"""Issue 13 §2: the command line's missing-ticket error names its own ways to give the ticket
(before: the SDK's advice, ``set_component_verify_ticket``, which a CLI user cannot call)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wxprivacy.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [["get", "wx1111111111111111"], ["audit", "--no-progress"]])
def test_a_missing_ticket_names_the_flag_the_variable_and_redis(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv("WXPRIVACY_COMPONENT_VERIFY_TICKET", raising=False)
    monkeypatch.delenv("WXPRIVACY_REDIS_URL", raising=False)
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPID", "wx0000000000000000")
    monkeypatch.setenv("WXPRIVACY_COMPONENT_APPSECRET", "secret")
    monkeypatch.chdir(str(tmp_path))
    result = runner.invoke(app, [*command, "--base-url", "http://127.0.0.1:9"])
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    for advice in ("--ticket", "WXPRIVACY_COMPONENT_VERIFY_TICKET", "--redis-url"):
        assert advice in text, text
    assert "set_component_verify_ticket" not in text
