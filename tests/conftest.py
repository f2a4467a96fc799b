"""Fixtures shared by every tier; tiers are marked by folder (unit, integration, e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
TIER_BY_FOLDER = {"unit": "unit", "integration": "integration", "sandbox": "integration", "e2e": "e2e"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier from the folder it lives in, so `-m unit` etc. select by tier."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(TESTS).parts
        tier = TIER_BY_FOLDER.get(parts[0]) if len(parts) > 1 else None
        if tier:
            item.add_marker(getattr(pytest.mark, tier))
