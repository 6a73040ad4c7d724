"""``streamops demo``: the whole bot on one machine, with a terminal standing in for Slack."""
