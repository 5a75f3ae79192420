"""Memory of a whole process group, read from /proc (Linux; None elsewhere).

The npm `copilot` is a node loader whose child is the real server, and CLIs start helpers of
their own: the RSS that matters is the sum over the process group, not the leader's alone.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def group_rss_bytes(pgid: int) -> int | None:
    """Resident memory of every live process in group `pgid`, or None without /proc."""
    sizes = rss_by_group({pgid})
    return None if sizes is None else sizes.get(pgid, 0)


def rss_by_group(pgids: set[int]) -> dict[int, int] | None:
    """Resident memory per process group, for the groups asked for, in one pass over /proc."""
    if not PROC.is_dir():
        return None
    totals = dict.fromkeys(pgids, 0)
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the parenthesised command name: state, ppid, pgrp, ...
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            group = int(fields[2])
            if group not in totals or fields[0] == "Z":
                continue
            totals[group] += int((entry / "statm").read_text().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
    return totals


def megabytes(size: int | None) -> int | None:
    """Bytes as whole MiB (None stays None)."""
    return None if size is None else size // (1024 * 1024)
