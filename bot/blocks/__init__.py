"""Block Kit builders: pure functions from data to dicts, within Slack's limits."""
