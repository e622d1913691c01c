"""Prometheus `/metrics`: the fleet read from the store at scrape time, so any process of the
service (api, scheduler, worker) shows the same figures. No token, like /healthz: it carries
model names and numbers only, never event data.

A custom collector rather than gauges updated in place: the figures live in the database and
change in other processes; a handful of grouped queries per scrape is cheap."""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from watchkeeper.store import Store
from watchkeeper.web import queries

router = APIRouter(include_in_schema=False)


class FleetCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        began = time.perf_counter()
        with self.store.session(read_only=True) as s:
            latest = queries.latest_scores(s)
            signals = queries.latest_signals(s)
            open_counts = queries.open_by_tier(s)
            ingest = queries.ingest_totals(s)
            outbox = queries.outbox_by_channel(s)
            failures = queries.failed_attempts(s)

        score = GaugeMetricFamily("watchkeeper_model_score",
                                  "Composite health score of the newest scored window (0-100)",
                                  labels=["model"])
        tier = GaugeMetricFamily("watchkeeper_model_tier",
                                 "Tier of the newest scored window (0 healthy .. 3 critical)",
                                 labels=["model"])
        age = GaugeMetricFamily("watchkeeper_model_last_window_end_timestamp_seconds",
                                "End of the newest scored window", labels=["model"])
        for name, row in sorted(latest.items()):
            score.add_metric([name], row.value)
            tier.add_metric([name], row.tier)
            age.add_metric([name], row.window_end.timestamp())
        yield from (score, tier, age)

        severity = GaugeMetricFamily(
            "watchkeeper_signal_severity",
            "Severity (0-1) of each detector finding in the model's newest judged window",
            labels=["model", "kind", "method", "feature"])
        for model, kind, method, feature, value in sorted(signals):
            severity.add_metric([model, kind, method, feature], value)
        yield severity

        incidents = GaugeMetricFamily("watchkeeper_incidents_open",
                                      "Open, acknowledged or mitigating incidents",
                                      labels=["model", "tier"])
        for (model, t), n in sorted(open_counts.items()):
            incidents.add_metric([model, f"T{t}"], n)
        yield incidents

        events = CounterMetricFamily("watchkeeper_ingest_rows",
                                     "Rows accepted (new, not duplicates) by ingest",
                                     labels=["model", "kind"])
        dupes = CounterMetricFamily("watchkeeper_ingest_duplicate_rows",
                                    "Rows dropped as duplicates of an earlier event_id",
                                    labels=["model", "kind"])
        quarantined = CounterMetricFamily("watchkeeper_ingest_quarantined_rows",
                                          "Rows refused by validation and quarantined",
                                          labels=["model", "kind"])
        for (model, kind), (new, dup, bad) in sorted(ingest.items()):
            events.add_metric([model, kind], new)
            dupes.add_metric([model, kind], dup)
            quarantined.add_metric([model, kind], bad)
        yield from (events, dupes, quarantined)

        queued = GaugeMetricFamily("watchkeeper_notifications",
                                   "Notifications in the outbox by channel and status "
                                   "(pending, delivered, dead, ...)",
                                   labels=["channel", "status"])
        for (channel, status), n in sorted(outbox.items()):
            queued.add_metric([channel, status], n)
        failed = CounterMetricFamily("watchkeeper_notification_failures",
                                     "Delivery attempts that did not deliver, by outcome "
                                     "(retry, failed, dead)", labels=["channel", "outcome"])
        for (channel, outcome), n in sorted(failures.items()):
            failed.add_metric([channel, outcome], n)
        yield from (queued, failed)

        took = GaugeMetricFamily("watchkeeper_metrics_collect_seconds",
                                 "Time spent reading the store for this scrape")
        took.add_metric([], time.perf_counter() - began)
        yield took


def registry_for(store: Store) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(store))
    return registry


@router.get("/metrics")
def metrics(request: Request) -> Response:
    app = request.app
    registry = getattr(app.state, "wk_metrics", None)
    if registry is None:
        registry = app.state.wk_metrics = registry_for(app.state.wk.store)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
