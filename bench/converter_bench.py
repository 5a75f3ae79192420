"""Converter throughput: CPU time per KB must stay flat as inputs grow (the parser is linear).

Run: python bench/converter_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.converters import CallEnd, StreamingParser

TOOLS = [
    {"type": "function", "function": {"name": "write", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
]
PROSE = "The quick brown fox <b>jumps</b> over [the] lazy dog; a < b.\n{not a call}\n"


def plain(size: int) -> str:
    """Prose with markup-like characters (held and released all the time)."""
    return (PROSE * (size // len(PROSE) + 1))[:size]


def json_argument(size: int) -> str:
    """One Hermes call whose string argument is `size` characters, with escapes and tags in it."""
    value = ('x\\"</tool_call> ' * (size // 17 + 1))[:size].rstrip("\\")
    return f'<tool_call>\n{{"name": "write", "arguments": {{"content": "{value}"}}}}\n</tool_call>'


def xml_argument(size: int) -> str:
    """One Anthropic-style call whose raw value is `size` characters, with false closers in it."""
    value = ("a </parameter> b " * (size // 17 + 1))[:size]
    return (
        '<function_calls>\n<invoke name="write">\n<parameter name="content">'
        f"{value}</parameter>\n</invoke>\n</function_calls>"
    )


def many_calls(size: int) -> str:
    """Short calls between sentences, about `size` characters in all."""
    unit = 'Next.\n<tool_call>{"name": "search", "arguments": {"q": "x"}}</tool_call>\n'
    return unit * (size // len(unit) + 1)


WORKLOADS: dict[str, Callable[[int], str]] = {
    "plain text": plain,
    "JSON argument": json_argument,
    "XML argument": xml_argument,
    "many calls": many_calls,
}


def run(text: str, chunk: int) -> tuple[float, int]:
    """CPU seconds to stream `text` in `chunk`-sized pieces, and the number of calls found."""
    parser = StreamingParser(TOOLS)
    started = time.process_time()
    events = []
    for start in range(0, len(text), chunk):
        events += parser.feed(text[start : start + chunk])
    events += parser.finish()
    return time.process_time() - started, sum(isinstance(e, CallEnd) for e in events)


def main() -> None:
    """Print µs of CPU per KB for each workload, size and chunk size."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--quick", action="store_true", help="skip the 1 MB inputs")
    sizes = [10_000, 100_000] if options.parse_args().quick else [10_000, 100_000, 1_000_000]
    chunks = [1, 16, 1 << 30]
    print(
        f"{'workload':<14} {'size':>6} " + " ".join(f"{_label(c):>12}" for c in chunks) + "   calls"
    )
    for name, make in WORKLOADS.items():
        for size in sizes:
            text = make(size)
            cells, calls = [], 0
            for chunk in chunks:
                seconds, calls = run(text, chunk)
                cells.append(f"{seconds * 1e6 / (len(text) / 1024):9.1f} µs")
            print(
                f"{name:<14} {_size(size):>6} "
                + " ".join(f"{c:>12}" for c in cells)
                + f"   {calls}"
            )
    print("(µs of CPU per KB of input; flat down each column = linear time)")


def _label(chunk: int) -> str:
    return "whole text" if chunk >= 1 << 30 else f"{chunk}-char"


def _size(size: int) -> str:
    return f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1000} KB"


if __name__ == "__main__":
    main()
