"""Slack-agnostic feature logic between the handlers and the provider clients."""
