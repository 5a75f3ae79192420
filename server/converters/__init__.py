"""Converter layer: tool-call markup that a model writes as text becomes OpenAI tool calls.

`StreamingParser` works on a stream, `parse` on a whole text (built on the streaming parser);
`render_tool_instructions` / `render_tool_call` write the prompt side in a chosen dialect.
Standard library only.
"""

from .base import Dialect
from .events import (
    CallArgs,
    CallEnd,
    CallStart,
    ConverterEvent,
    ParsedCall,
    ParseResult,
    TextOut,
    fold_events,
)
from .instructions import render_tool_call, render_tool_instructions
from .parse import parse
from .registry import DIALECTS, build_dialects, get_dialect
from .routing import dialect_for_model
from .stream import StreamingParser

__all__ = [
    "DIALECTS",
    "CallArgs",
    "CallEnd",
    "CallStart",
    "ConverterEvent",
    "Dialect",
    "ParseResult",
    "ParsedCall",
    "StreamingParser",
    "TextOut",
    "build_dialects",
    "dialect_for_model",
    "fold_events",
    "get_dialect",
    "parse",
    "render_tool_call",
    "render_tool_instructions",
]
