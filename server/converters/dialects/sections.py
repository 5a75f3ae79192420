"""The loop shared by dialects that wrap their calls in a section: BEGIN (CALL …)+ END."""

from __future__ import annotations

from collections.abc import Callable

from ..base import FAIL, Done, Found, Scan
from ..tape import Step, Tape, peek_any, skip_ws

# Reads one call that starts at the given offset: the call (None when it is skipped but its
# siblings survive) and where it ends; or None when the markup there is not a call at all.
ReadCall = Callable[[Tape, int], Step[tuple[Found | None, int] | None]]


def scan_calls(t: Tape, begin: str, call: str, end: str, read_call: ReadCall) -> Scan:
    """Read the calls of one section; complete calls stand even if the section is cut off."""
    k = len(begin)
    found = False
    while True:
        k = yield from skip_ws(t, k)
        which = yield from peek_any(t, k, (call, end))
        if which == 1 and found:
            return Done(k + len(end))
        step = (yield from read_call(t, k)) if which == 0 else None
        if step is None:
            return Done(k) if found else FAIL
        item, k = step
        if item is not None:
            yield item
            found = True
