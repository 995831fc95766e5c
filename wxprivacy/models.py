"""Placeholder until the models land (replaced by the serde branch)."""

from __future__ import annotations

import attrs


@attrs.frozen
class PrivacySetting:
    """Placeholder."""
