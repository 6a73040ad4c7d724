"""Slack listeners and HTTP routes (``handlers.slack.register`` wires the Slack surfaces)."""
