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


def _promtool() -> str:
    import shutil

    import pytest

    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    return path


def test_promtool_accepts_the_rules_and_the_config(tmp_path: Path) -> None:
    """`promtool check rules` and `check config` (rule path pointed at the repo copy) pass."""
    import subprocess

    promtool = _promtool()
    rules = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text()
    local = tmp_path / "prometheus.yml"
    local.write_text(config.replace("/etc/prometheus/alerts.yml", str(ALERTS)))
    checked = subprocess.run(
        [promtool, "check", "config", str(local)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_lints_the_exported_metrics_clean() -> None:
    """`promtool check metrics` finds nothing to complain about in a scrape."""
    import subprocess

    from prometheus_client import generate_latest

    promtool = _promtool()
    metrics = Metrics()
    metrics.webhooks.labels("streampixel", "accepted").inc()
    metrics.notification_delay.labels("streampixel").observe(1.0)
    metrics.provider_requests.labels("streamstack", "GET /api/v1/media", "ok").inc()
    metrics.provider_latency.labels("streamstack", "GET /api/v1/media").observe(0.1)
    metrics.slack_errors.labels("chat.postMessage", "ratelimited").inc()
    metrics.webhook_last_received.labels("streampixel").set(1.0)
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=generate_latest(metrics.registry),
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode()
