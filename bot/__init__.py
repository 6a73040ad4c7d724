"""StreamOps: a Slack chat-ops bot for Streampixel, StreamStack and StreamAPI."""

__version__ = "0.1.0"
