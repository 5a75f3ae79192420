"""Prometheus metrics: what each finished request's facts say, and the CLI processes right now.

Request metrics are read from `RequestFacts` in one place, when the request ends (`observe`);
nothing else in the server touches them. The process gauges are read from the CLI slots and
each backend's `stats()` when scraped.

With WORKERS>1 every worker is its own process and a scrape reaches whichever worker the
kernel picks, so the workers share prometheus_client's multiprocess mode: each writes its
values to files in one directory and any worker's `/metrics` adds them all up (see
`use_multiprocess`). There the gauges are also written every second, so that a scrape
answered by one worker sees the others' processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from executors import Backend, CliSlots
from server.facts import RequestFacts

NAMESPACE = "copilot_bridge"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNCOUNTED_PATHS = frozenset({"/health", "/metrics"})  # probes and scrapes are not traffic
# Seconds: a first token comes in tens of ms (warm) to tens of s (a busy model); answers take longer.
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
GAUGE_EVERY_S = 1.0


def use_multiprocess(directory: Path) -> None:
    """Make every metric created from now on (in this process and its forks) share `directory`.

    Called by the WORKERS>1 parent before it forks. prometheus_client picks its value storage
    from PROMETHEUS_MULTIPROC_DIR when first imported, so the choice is made again here.
    """
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def forget_worker(pid: int) -> None:
    """A worker died: drop its live gauges (its counters stay in the sums)."""
    if os.environ.get(MULTIPROC_ENV):
        mark_process_dead(pid)  # type: ignore[no-untyped-call]


class Metrics:
    """The bridge's metrics and their exposition."""

    def __init__(self, slots: CliSlots, backends: Mapping[str, Backend]) -> None:
        self._slots = slots
        self._backends = backends
        self._sampler: asyncio.Task[None] | None = None
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        own: CollectorRegistry | None
        if self.multiprocess:
            own = None  # the values live in files; the exposition registry adds up every worker's
            self.registry = CollectorRegistry()
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        else:
            own = self.registry = CollectorRegistry()
        ns = NAMESPACE
        self.requests = Counter("requests", "Requests answered, by backend, model and HTTP status.",
                                ["backend", "model", "status"], namespace=ns, registry=own)
        self.errors = Counter("request_errors", "Requests that ended with an error (before or during a stream), by error code.",
                              ["backend", "model", "code"], namespace=ns, registry=own)
        self.first_token = Histogram("time_to_first_token_seconds", "Seconds from arrival to the first answer text or call.",
                                     ["backend", "model"], buckets=FIRST_TOKEN_BUCKETS, namespace=ns, registry=own)
        self.duration = Histogram("request_duration_seconds", "Seconds from arrival to the end of the answer.",
                                  ["backend", "model"], buckets=DURATION_BUCKETS, namespace=ns, registry=own)
        self.tokens = Counter("tokens", "Tokens used, by API key fingerprint, backend and kind (prompt or completion).",
                              ["api_key", "backend", "kind"], namespace=ns, registry=own)
        self.cost_usd = Counter("cost_usd", "Cost in USD as the backend reported it (Claude), by API key fingerprint.",
                                ["api_key", "backend"], namespace=ns, registry=own)
        self.premium = Counter("premium_requests", "Copilot premium requests as reported, by API key fingerprint.",
                               ["api_key", "backend"], namespace=ns, registry=own)
        self.cli = Gauge("cli_processes", "CLI processes: running a request, or requests queued for a CLI slot.",
                         ["state"], multiprocess_mode="livesum", namespace=ns, registry=own)
        self.warm = Gauge("warm_cli_processes", "CLI processes started ahead of requests, by backend.",
                          ["backend"], multiprocess_mode="livesum", namespace=ns, registry=own)

    def observe(self, facts: RequestFacts, status: int) -> None:
        """Count one finished request from its facts."""
        if facts.path in UNCOUNTED_PATHS:
            return
        backend, model = facts.backend or "", facts.model or ""
        self.requests.labels(backend, model, str(status)).inc()
        if facts.error is not None:
            self.errors.labels(backend, model, str(facts.error.get("code") or facts.error.get("type") or "error")).inc()
        if not backend:
            return  # refused before a backend was chosen: no timings or usage to tell
        self.duration.labels(backend, model).observe(facts.elapsed_s())
        if facts.first_output_s is not None:
            self.first_token.labels(backend, model).observe(facts.first_output_s)
        usage = facts.usage
        if usage:
            key = facts.api_key_id or ""
            self.tokens.labels(key, backend, "prompt").inc(usage.get("prompt_tokens") or 0)
            self.tokens.labels(key, backend, "completion").inc(usage.get("completion_tokens") or 0)
            if usage.get("cost_usd") is not None:
                self.cost_usd.labels(key, backend).inc(usage["cost_usd"])
            if usage.get("premium_requests") is not None:
                self.premium.labels(key, backend).inc(usage["premium_requests"])

    def sample_gauges(self) -> None:
        """Set the process gauges from the CLI slots and the backends' own counts."""
        self.cli.labels("running").set(self._slots.in_use)
        self.cli.labels("queued").set(self._slots.waiting)
        for name, backend in self._backends.items():
            self.warm.labels(name).set(backend.stats().get("processes_warm", 0))

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The metrics in the format the scraper asked for, and its content type."""
        self.sample_gauges()
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


    def start(self) -> None:
        """Multiprocess mode: write the gauges every second, for scrapes another worker answers."""
        if self.multiprocess and self._sampler is None:
            self._sampler = asyncio.create_task(self._sample_forever())

    async def aclose(self) -> None:
        """Stop writing the gauges."""
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
            self._sampler = None

    async def _sample_forever(self) -> None:
        while True:
            self.sample_gauges()
            await asyncio.sleep(GAUGE_EVERY_S)
