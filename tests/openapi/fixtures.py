"""The autouse fixture that checks every response a test read against OpenAI's schemas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openapi.hooks import WireLog, wire_log_active
from tests.openapi.validator import describe


@pytest.fixture(autouse=True)
def wire_schema_check() -> Iterator[WireLog]:
    """Record the test's responses; at teardown, fail when one departs from OpenAI's schema."""
    with wire_log_active(WireLog()) as log:
        yield log
    found = log.violations()
    if found:
        pytest.fail(f"{len(found)} response(s) departed from OpenAI's OpenAPI schema:\n{describe(found)}", pytrace=False)
