"""The alert rules, the Grafana dashboard and the README name only metrics StreamOps exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from bot.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "streamops-dashboard.json"
METRIC = re.compile(r"\bstreamops_[a-z_]+\b")


def _exported() -> dict[str, set[str]]:
    """Metric family name → the sample names Prometheus sees for it."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
    }
    families: dict[str, set[str]] = {}
    for family in Metrics().registry.collect():
        families[family.name] = {family.name + s for s in suffixes[family.type]}
    return families


def _samples() -> set[str]:
    return set().union(*_exported().values())


def _rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(ALERTS.read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_every_alert_rule_is_complete_and_names_real_metrics() -> None:
    """Each rule has a name, an expression over exported metrics, a severity and a summary."""
    samples = _samples()
    rules = _rules()
    assert len({r["alert"] for r in rules}) == len(rules)
    for rule in rules:
        names = set(METRIC.findall(rule["expr"]))
        assert names, f"{rule['alert']} names no StreamOps metric"
        assert names <= samples, f"{rule['alert']}: {names - samples} not exported"
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        for text in rule["annotations"].values():
            assert set(METRIC.findall(text)) <= samples


def test_the_dashboard_names_real_metrics_and_covers_each_one() -> None:
    """Every panel query uses exported metrics, and every exported metric has a panel."""
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "streamops"
    samples = _samples()
    used: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(METRIC.findall(target["expr"]))
            assert names and names <= samples, f"{panel['title']}: {names - samples}"
            used |= names
    for family, names in _exported().items():
        assert names & used, f"no panel shows {family}"


def test_the_alerts_cover_the_operational_metrics() -> None:
    """Backlog age, failed deliveries, delay, Slack errors, silent webhooks and providers alert."""
    named = set().union(*(METRIC.findall(rule["expr"]) for rule in _rules()))
    for needed in (
        "streamops_outbox_oldest_age_seconds",
        "streamops_outbox_failed",
        "streamops_notification_delay_seconds_bucket",
        "streamops_slack_api_errors_total",
        "streamops_webhook_last_received_timestamp_seconds",
        "streamops_webhooks_total",
        "streamops_provider_requests_total",
    ):
        assert needed in named


def test_the_readme_documents_every_metric() -> None:
    """README § Metrics names every exported metric."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Metrics") :]
    section = section[: section.find("\n## ", 1)]
    for family, names in _exported().items():
        assert any(name in section for name in names | {family}), f"{family} is undocumented"
