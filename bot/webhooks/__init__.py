"""Provider webhooks, pure: signature checks and payload parsing (no Slack, no SQL)."""
