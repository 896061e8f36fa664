"""Slack adapters: posting, the exactly-once outbox, slash commands, the bolt app."""
