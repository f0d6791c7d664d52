"""The app's figures for Prometheus at ``/metrics``, through OpenTelemetry's exporter.

scotaccount-django records through the OpenTelemetry API only; a project chooses
where the figures go by setting up the SDK once per process, as ``install``
does here (docs/operations.md). Without ``opentelemetry-exporter-prometheus``
installed, the example site simply has no ``/metrics``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

try:
    from opentelemetry import metrics
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
except ImportError:  # pragma: no cover - the demo installs it; a bare checkout may not
    available = False
else:
    available = True


def install() -> bool:
    """Send this process's metrics to the Prometheus exporter; False when it is not installed."""
    if available:
        metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))
    return available


def serve(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format. A real site serves it only to its Prometheus, not the public."""
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
