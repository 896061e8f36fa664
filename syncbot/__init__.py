"""syncbot: honest, early-warning milestone summaries from Jira and Linear to Slack."""

__version__ = "0.1.0"
