"""Entry points and Slack surface: the CLI now; the Bolt app, builders and scheduler later."""
