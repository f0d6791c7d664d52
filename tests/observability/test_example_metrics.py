"""The example project serves the app's figures at /metrics, as `make demo` points out."""

from __future__ import annotations

import pytest

from tests.flow_helpers import sign_in

pytestmark = pytest.mark.django_db


def test_metrics_shows_a_sign_in_in_prometheus_format(
    example_site, client, fake_scotaccount, telemetry
):
    assert sign_in(client, fake_scotaccount).status_code == 302
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    lines = response.content.decode().splitlines()
    assert any(
        line.startswith("scotaccount_sign_ins_total{") and 'scotaccount_outcome="success"' in line
        for line in lines
    )
    assert any(
        line.startswith("scotaccount_provider_request_duration_seconds_count{") for line in lines
    )


def test_the_demo_sends_metrics_to_the_prometheus_exporter(example_site, monkeypatch):
    from council import metrics
    from opentelemetry.exporter.prometheus import PrometheusMetricReader

    installed = []
    monkeypatch.setattr(metrics.metrics, "set_meter_provider", installed.append)
    monkeypatch.setattr(metrics, "MeterProvider", lambda metric_readers: metric_readers)
    assert metrics.install() is True
    ((reader,),) = installed
    assert isinstance(reader, PrometheusMetricReader)
    reader.shutdown()  # unregisters it from prometheus_client's registry
