"""The review buttons (SPEC §8): "Send to client", "Skip" and "Draft client heads-up".

Only a user in the client's `reviewers`, from the workspace the app is installed in (the
`team_id` `auth.test` reports; a Slack Connect guest from the client's own workspace never
qualifies), may act; anyone else gets an ephemeral refusal and nothing changes.

"Send to client" posts the client message exactly once, however many times or concurrently it
is pressed and across restarts: the first press moves the review to `releasing` (recording
who), the client post is an outbox row keyed by the post (so every press, and the
housekeeping of a process that restarts after a kill -9, queue the same row, and its claim
lets one poster post it), and once it is in Slack the review is `sent` and the draft updated
to say who sent it and when, without buttons. "Skip" posts nothing and records who skipped.
A draft superseded by a newer one says so, and its buttons no longer act.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from syncbot import messages
from syncbot.app import Syncbot
from syncbot.render.alerts import HEADSUP, SEND, SKIP
from syncbot.render.blocks import spans_mrkdwn
from syncbot.render.doc import Mention, Span
from syncbot.slack.outbox import Outbox
from syncbot.store.reviews import Review

logger = logging.getLogger(__name__)
ACTIONS = (SEND, SKIP, HEADSUP)


@dataclass(frozen=True)
class Press:
    """What syncbot reads of a `block_actions` payload."""

    action: str
    value: str
    user_id: str
    team_id: str

    @classmethod
    def from_payload(cls, body: Mapping[str, Any]) -> Press | None:
        actions = body.get("actions") or []
        if not actions or not isinstance(actions[0], dict):
            return None
        user = body.get("user") or {}
        team = body.get("team") or {}
        return cls(
            action=str(actions[0].get("action_id") or ""),
            value=str(actions[0].get("value") or ""),
            user_id=str(user.get("id") or ""),
            team_id=str(user.get("team_id") or team.get("id") or ""),
        )


class Actions:
    """Handles button presses through the application object and the outbox."""

    def __init__(
        self,
        app: Syncbot,
        outbox: Callable[[], Outbox | None],
        team: Callable[[], str | None],
    ) -> None:
        self.app = app
        self.outbox = outbox  # a fresh Outbox per press: its claims are its own
        self.team = team  # the app's own workspace (auth.test), asked once
        self._lock = threading.Lock()

    def handle(self, press: Press) -> str:
        """Act on a press; the ephemeral reply for the presser (escaped mrkdwn)."""
        if press.action not in ACTIONS:
            return spans_mrkdwn(messages.ACTION_UNKNOWN)
        if press.action == HEADSUP:
            client_id, _, milestone_id = press.value.partition("|")
            return self._headsup(press, client_id, milestone_id)
        review = self.app.review(press.value)
        if review is None:
            return spans_mrkdwn(messages.REVIEW_UNKNOWN)
        refusal = self._refusal(press, review.client_id)
        if refusal is not None:
            return refusal
        if press.action == SKIP:
            return self._skip(press, review)
        return self._send(press, review)

    def _refusal(self, press: Press, client_id: str) -> str | None:
        """Only a reviewer of this client, of the app's own workspace, may act."""
        if client_id not in {c.id for c in self.app.clients}:
            return spans_mrkdwn(messages.REVIEW_UNKNOWN)
        home = self.team()  # unknown (auth.test failed): nobody can be checked, so nobody acts
        if (
            not self.app.may_review(client_id, press.user_id)
            or home is None
            or (press.team_id != home)
        ):
            logger.warning(
                "refused %s by %s (team %s) for %s: not a reviewer of this workspace",
                press.action,
                press.user_id,
                press.team_id,
                client_id,
            )
            return spans_mrkdwn(messages.REVIEW_NOT_REVIEWER)
        return None

    def _send(self, press: Press, review: Review) -> str:
        if review.state in ("sent", "skipped", "superseded"):
            return _decided(review)
        outbox = self.outbox()
        if outbox is None:
            return spans_mrkdwn(messages.REVIEW_NO_TOKEN)
        if review.state == "pending":
            review = self.app.begin_release(review, press.user_id) or self._reload(review)
        if review.state not in ("releasing", "sent"):
            return _decided(review)
        done = self.finish(review, outbox)
        current = self._reload(review)
        if done is None:  # another press (or daemon) is posting it right now
            return _decided(current)
        if not done:
            return spans_mrkdwn(messages.REVIEW_NOT_YET)
        if current.decided_by == press.user_id:
            return spans_mrkdwn(messages.REVIEW_SENT)
        return _decided(current)

    def finish(self, review: Review, outbox: Outbox) -> bool | None:
        """Post a released review's client message (once) and mark the draft sent; False
        while Slack has not taken the post (it stays queued and housekeeping retries), None
        while another poster holds it (it finishes the release)."""
        result = outbox.send(self.app.release_entry(review))
        if result.outcome == "busy":
            return None
        if result.outcome not in ("posted", "already_posted"):
            logger.warning("release of %s not posted yet: %s", review.id, result.line())
            return False
        done = self.app.finish_release(review)
        if done is not None:
            draft, new = done
            outbox.correct(draft, tuple(new), dict(draft.snapshot), draft.as_of)
        return True

    def _skip(self, press: Press, review: Review) -> str:
        if review.state != "pending":
            return _decided(review)
        done = self.app.skip(review, press.user_id)
        if done is None:
            return _decided(self._reload(review))
        outbox = self.outbox()
        if outbox is not None:
            draft, new = done
            outbox.correct(draft, tuple(new), dict(draft.snapshot), draft.as_of)
        return spans_mrkdwn(messages.REVIEW_SKIPPED)

    def _headsup(self, press: Press, client_id: str, milestone_id: str) -> str:
        refusal = self._refusal(press, client_id)
        if refusal is not None:
            return refusal
        outbox = self.outbox()
        if outbox is None:
            return spans_mrkdwn(messages.REVIEW_NO_TOKEN)
        draft = self.app.headsup(client_id, milestone_id)
        if draft is None:
            return spans_mrkdwn(messages.HEADSUP_NOTHING)
        outbox.send(draft)
        return spans_mrkdwn(messages.HEADSUP_DRAFTED)

    def _reload(self, review: Review) -> Review:
        return self.app.review(review.id) or review


def mark_superseded(app: Syncbot, client_id: str, outbox: Outbox) -> int:
    """Drafts a newer draft replaced say so, and their buttons stop acting; how many."""
    replaced = app.superseded_drafts(client_id)
    for draft, new in replaced:
        outbox.correct(draft, tuple(new), dict(draft.snapshot), draft.as_of)
    return len(replaced)


def _decided(review: Review) -> str:
    """What a press on a decided draft says: who decided, and when."""
    who: list[Span] = [Mention(review.decided_by)] if review.decided_by else ["someone"]
    when = review.decided_at.strftime("%Y-%m-%d %H:%M UTC") if review.decided_at else ""
    if review.state == "sent":
        return spans_mrkdwn("Already sent to the client by ", *who, f" at {when}.")
    if review.state == "releasing":
        return spans_mrkdwn("Being sent to the client by ", *who, ".")
    if review.state == "skipped":
        return spans_mrkdwn("Skipped by ", *who, f" at {when}: nothing was sent.")
    return spans_mrkdwn(messages.REVIEW_SUPERSEDED)
