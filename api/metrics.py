"""Prometheus metrics of one app: requests and latency per route, retrieval/LLM latency, answers by mode."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import Answer

# Prometheus 0.0.4 text is what every scraper understands.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

_FAST = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


class Metrics:
    """The collectors of one app, in their own registry so that several apps can live in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rag_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rag_http_request_duration_seconds",
            "HTTP request latency by route template (until the body ends).",
            ["route"],
            buckets=_FAST + (10.0, 30.0),
            registry=self.registry,
        )
        self.retrieval = Histogram(
            "rag_retrieval_duration_seconds",
            "Latency of retrieval (query rewrite and hybrid search).",
            buckets=_FAST,
            registry=self.registry,
        )
        self.llm = Histogram(
            "rag_llm_duration_seconds",
            "Latency of LLM calls made for answers (failed ones included).",
            buckets=_SLOW,
            registry=self.registry,
        )
        self.answers = Counter(
            "rag_answers",
            "Answers by the mode that produced them.",
            ["mode"],
            registry=self.registry,
        )
        self.degraded = Counter(
            "rag_degraded_answers",
            "LLM answers that fell back to retrieval, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.reloads = Counter("rag_index_reloads", "Index reloads through the admin API.", registry=self.registry)
        self.ready = Gauge("rag_ready", "1 once the index is loaded.", registry=self.registry)

    def observe_answer(self, answer: Answer) -> None:
        """Count one answer by mode (and degradation) and record its retrieval and LLM latency."""
        self.answers.labels(answer.mode).inc()
        if answer.degraded:
            self.degraded.labels(answer.degraded).inc()
        timings = answer.timings or {}
        if "retrieval_ms" in timings:
            self.retrieval.observe(timings["retrieval_ms"] / 1000)
        if "llm_ms" in timings:
            self.llm.observe(timings["llm_ms"] / 1000)

    def render(self) -> bytes:
        """Prometheus text exposition of this registry."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware: counts requests and measures latency per route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Iterable[BaseRoute] = ()) -> None:
        self.app = app
        self.metrics = metrics
        # Requests rejected before routing have no route in their scope; match them here.
        self.templates = [(compile_path(path)[0], path) for route in routes if (path := getattr(route, "path", None))]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            label = _route_label(scope, self.templates)
            self.metrics.requests.labels(label, scope["method"], str(status)).inc()
            self.metrics.latency.labels(label).observe(time.perf_counter() - start)


def _route_label(scope: Scope, templates: list[tuple[re.Pattern[str], str]]) -> str:
    """The route template of a request, also for requests answered before routing (401, 413, 429)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return path
    for regex, template in templates:
        if regex.match(scope["path"]):
            return template
    # Unmatched paths share one label so that scanners cannot blow up the label space.
    return "unmatched"
