"""Whole-text conversion, built on the streaming parser so the two cannot diverge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .events import ParseResult, fold_events
from .stream import StreamingParser


def parse(
    text: str, tools: Sequence[Mapping[str, Any]] | None = None, *, enabled: bool = True
) -> ParseResult:
    """Split a complete model answer into content and tool calls."""
    parser = StreamingParser(tools, enabled=enabled)
    return fold_events([*parser.feed(text), *parser.finish()])
