"""``streamops demo --web``: the demo workspace in a browser page that looks like Slack."""
