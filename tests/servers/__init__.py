"""Local stand-ins for the trackers' HTTP APIs (Jira Cloud/Data Center, Linear) for tests."""
