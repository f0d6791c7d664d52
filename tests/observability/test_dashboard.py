"""The Grafana dashboard and Prometheus alert rules (docs/operations/) use only what we export.

The exported names are read from the Prometheus exporter itself (the session's
SDK has one, as the example project's ``/metrics`` does), after every
instrument has recorded once: so a renamed metric or label fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from scotaccount_django._internal import telemetry as app_telemetry
from scotaccount_django.exceptions import ProviderUnavailable

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations"
DASHBOARD = OPERATIONS / "grafana-dashboard.json"
ALERTS = OPERATIONS / "prometheus-alerts.yaml"

TARGET = {
    "type": "object",
    "required": ["refId", "expr"],
    "properties": {"refId": {"type": "string"}, "expr": {"type": "string", "minLength": 1}},
}
PANEL = {
    "type": "object",
    "required": ["id", "type", "title", "gridPos", "targets", "datasource"],
    "properties": {
        "id": {"type": "integer"},
        "type": {"enum": ["stat", "timeseries", "gauge", "bargauge", "table"]},
        "title": {"type": "string", "minLength": 1},
        "gridPos": {
            "type": "object",
            "required": ["x", "y", "w", "h"],
            "properties": {
                "x": {"type": "integer", "minimum": 0, "maximum": 23},
                "y": {"type": "integer", "minimum": 0},
                "w": {"type": "integer", "minimum": 1, "maximum": 24},
                "h": {"type": "integer", "minimum": 1},
            },
        },
        "targets": {"type": "array", "minItems": 1, "items": TARGET},
    },
}
#: The part of Grafana's dashboard model (schemaVersion 39) that an import relies on.
DASHBOARD_SCHEMA = {
    "type": "object",
    "required": ["title", "uid", "schemaVersion", "panels", "templating", "time"],
    "properties": {
        "title": {"type": "string"},
        "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,40}$"},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "panels": {"type": "array", "minItems": 1, "items": PANEL},
    },
}
#: PromQL's own words: functions, aggregations and keywords the expressions may use.
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile",
    "by", "without", "and", "or", "unless", "on", "ignoring", "bool",
}  # fmt: skip


@pytest.fixture
def exported(telemetry) -> tuple[set[str], set[str]]:
    """(series names, label names) our instruments give Prometheus, each recorded once."""
    app_telemetry.record_sign_in_started()
    app_telemetry.record_sign_in(None)
    app_telemetry.record_sign_in(ProviderUnavailable("test"))
    app_telemetry.record_step_up(["scotaccount.address"], "received")
    app_telemetry.record_logout("rp_initiated")
    app_telemetry.record_jwks_refetch("unknown_kid")
    app_telemetry.record_purged("verifiedattribute", 1)
    with pytest.raises(ProviderUnavailable), app_telemetry.provider_call("token"):
        raise ProviderUnavailable("test")
    names, labels = set(), set()
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name.startswith("scotaccount_"):
                names.add(sample.name)
                labels |= set(sample.labels)
    assert len({name.split("_bucket")[0] for name in names}) >= 7
    return names, labels


def references(expr: str) -> tuple[set[str], set[str]]:
    """(metric names, label names) an expression uses; PromQL's own words left out."""
    labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)\s*\"", expr))
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        labels |= {word.strip() for word in group.split(",")}
    bare = re.sub(r'"[^"]*"|\{[^}]*\}|\[[^\]]*\]|\b(?:by|without)\s*\([^)]*\)', " ", expr)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare)) - PROMQL_WORDS
    return words, labels


def dashboard_exprs() -> list[str]:
    return [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"]
            for target in panel["targets"]]  # fmt: skip


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"]
            for rule in group["rules"]]  # fmt: skip


def test_the_dashboard_is_a_grafana_dashboard():
    dashboard = json.loads(DASHBOARD.read_text())
    jsonschema.validate(dashboard, DASHBOARD_SCHEMA)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_the_dashboard_shows_what_the_issue_asks_for():
    exprs = "\n".join(dashboard_exprs())
    assert 'scotaccount_sign_ins_total{scotaccount_outcome="success"}' in exprs  # success rate
    assert "sum by (error_type)" in exprs  # failures by code
    for quantile in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({quantile}, " in exprs


@pytest.mark.django_db
def test_the_dashboard_uses_only_what_we_export(exported):
    names, labels = exported
    for expr in dashboard_exprs():
        metrics, used_labels = references(expr)
        assert metrics, expr
        assert metrics <= names, (expr, metrics - names)
        assert used_labels <= labels, (expr, used_labels - labels)


@pytest.mark.django_db
def test_the_alert_rules_parse_and_use_only_what_we_export(exported):
    names, labels = exported
    rules = alert_rules()
    assert [rule["alert"] for rule in rules] == [
        "ScotAccountSignInSuccessRateLow",
        "ScotAccountSlow",
        "ScotAccountJWKSRefetchStorm",
    ]
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        metrics, used_labels = references(rule["expr"])
        assert metrics, rule["expr"]
        assert metrics <= names, (rule["alert"], metrics - names)
        assert used_labels <= labels, (rule["alert"], used_labels - labels)


def test_the_reference_check_sees_a_misspelt_metric():
    metrics, labels = references(
        'sum by (error_type) (rate(scotaccount_signins_total{x="y"}[5m]))'
    )
    assert metrics == {"scotaccount_signins_total"}
    assert labels == {"error_type", "x"}
