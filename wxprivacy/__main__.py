"""``python -m wxprivacy``: the command line."""

from __future__ import annotations

from ._cli_entry import main

main()
