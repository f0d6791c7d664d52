"""The OpenTelemetry SDK with in-memory readers, for tests that read the app's figures.

The global meter and tracer providers can be set once per process, so one SDK
is installed for the whole session (``telemetry_sdk``) and each test drains it
first (``telemetry``). Counters and histograms are read as deltas since then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import Counter as CounterInstrument
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

Labels = frozenset[tuple[str, Any]]


def install() -> tuple[InMemoryMetricReader, InMemorySpanExporter]:
    """The session's SDK: in-memory readers, plus Prometheus' (the example's ``/metrics``)."""
    delta = AggregationTemporality.DELTA
    reader = InMemoryMetricReader(
        preferred_temporality={CounterInstrument: delta, Histogram: delta}
    )
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader, PrometheusMetricReader()]))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return reader, exporter


@dataclass
class Figures:
    """What the SDK saw since the test began: ``collect()`` reads the metrics once."""

    reader: InMemoryMetricReader
    exporter: InMemorySpanExporter

    def reset(self) -> None:
        self.reader.get_metrics_data()
        self.exporter.clear()

    def collect(self) -> dict[str, dict[Labels, Any]]:
        """metric name -> {attributes: sum, histogram count, or gauge value}; zeros left out."""
        found: dict[str, dict[Labels, Any]] = {}
        data = self.reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    points = found.setdefault(metric.name, {})
                    for point in metric.data.data_points:
                        value = (
                            point.count if isinstance(point, HistogramDataPoint) else point.value
                        )
                        if value:
                            points[frozenset(point.attributes.items())] = value
        return {name: points for name, points in found.items() if points}

    def spans(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.exporter.get_finished_spans())


def labels(**attributes: str) -> Labels:
    """Attributes by their names: ``labels(**{"scotaccount.outcome": "success"})``."""
    return frozenset(attributes.items())
