"""`syncbot check --live` for Slack: the bot token works and may post, and the bot is a member
of every configured channel (auth.test once, then conversations.info per channel).

conversations.info needs the `channels:read` (public) and `groups:read` (private channels)
scopes; the app manifest grants them. A private channel the bot is not in looks missing to
Slack (`channel_not_found`), so the fix named is the same: check the id, invite the bot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from syncbot.slack.errors import SlackError
from syncbot.slack.posting import SlackAccess, SlackPoster, web_client

POST_SCOPE = "chat:write"


@dataclass(frozen=True)
class SlackCheck:
    """What the check found: the bot's identity, problems of the token, and per channel id
    the problem with it (channels without one are fine)."""

    identity: str | None
    token_problems: list[str] = field(default_factory=list)
    channel_problems: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.token_problems and not self.channel_problems


def check_slack(access: SlackAccess, channels: Sequence[str], *, timeout: int = 30) -> SlackCheck:
    """auth.test, then conversations.info for each of `channels` (SettingsError without a
    token). Nothing is posted."""
    client = web_client(access, timeout=timeout)
    try:
        auth = SlackPoster._call("auth.test", None, client.auth_test)
    except SlackError as exc:
        return SlackCheck(None, [str(exc)])
    identity = f"@{auth.get('user') or '?'} in {auth.get('team') or '?'}"
    problems = []
    scopes = _header(auth.headers, "x-oauth-scopes")
    if scopes is not None and POST_SCOPE not in {s.strip() for s in scopes.split(",")}:
        problems.append(
            f"the bot token has no {POST_SCOPE} scope (it has: {scopes or 'none'}): add it to "
            "the app (config/slack-app-manifest.yaml), reinstall it, and update "
            "SYNCBOT_SLACK_BOT_TOKEN"
        )
    found: dict[str, str] = {}
    for channel in dict.fromkeys(channels):
        try:
            answer = SlackPoster._call(
                "conversations.info", channel, client.conversations_info, channel=channel
            )
        except SlackError as exc:
            found[channel] = _channel_hint(exc)
            if exc.code == "missing_scope":
                break  # the same for every channel: say it once
            continue
        info = answer.get("channel") or {}
        name = f"#{info.get('name')}" if info.get("name") else channel
        if info.get("is_archived"):
            found[channel] = f"{name} is archived: syncbot cannot post there"
        elif not info.get("is_member"):
            found[channel] = (
                f"the bot is not a member of {name}: type /invite @syncbot there (in a Slack "
                "Connect channel, from your side)"
            )
    return SlackCheck(identity, problems, found)


def _channel_hint(exc: SlackError) -> str:
    if exc.code == "channel_not_found":
        return (
            "Slack knows no such channel, or it is private and the bot is not in it: check the "
            "id, and /invite @syncbot"
        )
    if exc.code == "missing_scope":
        return (
            "the bot token may not read channel info (conversations.info needs channels:read "
            "and groups:read): reinstall the app from config/slack-app-manifest.yaml"
        )
    return str(exc)


def _header(headers: object, name: str) -> str | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            raw = value[0] if isinstance(value, list | tuple) else value
            return str(raw)
    return None
