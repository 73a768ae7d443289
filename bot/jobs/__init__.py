"""What each job does on the Slack side: run the core service, then tell the channel."""
