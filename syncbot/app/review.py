"""The outbox side: each period's digest queued once, review before a client sees it (SPEC §8:
drafts, release, skip, supersede), heads-ups from alerts, and corrections of posted digests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from syncbot import messages
from syncbot.app.documents import Documents
from syncbot.config import Client
from syncbot.domain import ClientState
from syncbot.errors import ConfigError, ReviewDecided
from syncbot.render.alerts import (
    decided_messages,
    draft_messages,
    headsup_messages,
    sent_by,
    skipped_by,
    superseded,
)
from syncbot.render.blocks import digest_messages
from syncbot.render.doc import Span
from syncbot.render.views import Audience
from syncbot.schedule import NeverFires, grace, period_for
from syncbot.store import OutboxEntry, OutboxKey, new_entry
from syncbot.store.outbox import Reported
from syncbot.store.reviews import Review
from syncbot.store.reviews import parse_id as parse_review_id


@dataclass(frozen=True)
class Correction:
    """A posted digest re-rendered for its period: what `slack.outbox.Outbox.correct` applies."""

    entry: OutboxEntry
    messages: tuple[dict[str, Any], ...]
    snapshot: Reported
    as_of: dt.date


class Reviewing(Documents):
    """The outbox: digests queued per period, reviewed drafts, corrections."""

    def period(self, client: Client, audience: str, now: dt.datetime | None = None) -> dt.datetime:
        """The digest period `now` falls in (`syncbot.schedule`)."""
        cadence = self.loaded.config.cadence(client, audience)
        try:
            return period_for(cadence, now or self.clock())
        except NeverFires:
            key = "internal_digest_cron" if audience == "internal" else "client_digest_cron"
            raise ConfigError(
                [
                    (
                        f"client {client.id!r}: schedule.{key} {cadence.cron!r} has not fired in "
                        "five years; fix the crontab"
                    )
                ]
            ) from None

    def digest_due(self, client_id: str, audience: str) -> bool:
        """Whether this period's digest may still be posted: its period began within the
        grace (a digest job that fires late, or a client digest's off week, owes nothing)."""
        client = self.client(client_id)
        now = self.clock()
        return now - self.period(client, audience, now) <= grace(
            self.schedule(client).grace_minutes
        )

    def unsent(self, client_id: str, audience: str) -> list[OutboxEntry]:
        return self.store.outbox.unsent(client_id, audience)

    def queue_digest(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> list[OutboxEntry]:
        """What is owed to `audience` of `client`, oldest first: earlier periods still
        queued, then this period's digest, rendered and queued first if it is not yet."""
        client = self.client(client_id)
        period = self.period(client, audience)
        key = OutboxKey(client.id, audience, period)
        owed = [e for e in self.store.outbox.unsent(client.id, audience) if e.key.period < period]
        entry = self.store.outbox.get(key)
        if entry is None and audience == "client" and client.review_required:
            return [*owed, *self._draft_digest(client, period, as_of)]
        if entry is None:
            self.require_data(client.id)
            doc, state = self.digest(client.id, audience, as_of=as_of, before=period)
            rendered = [m.as_json() for m in digest_messages(doc)]
            if audience == "client":  # SPEC §9: the trend chart goes with the client digest
                part = self._chart_part(client, key, doc.as_of)
                if part is not None:
                    rendered.append(part)
            entry = self.store.outbox.add(
                new_entry(
                    key,
                    channel_for(client, audience),
                    doc.as_of,
                    rendered,
                    reported_snapshot(state),
                ),
                self.clock(),
            )
        return [*owed, entry]

    def _draft_digest(
        self, client: Client, period: dt.datetime, as_of: dt.date | None
    ) -> list[OutboxEntry]:
        """The client digest of `period` as a draft in the internal channel: stored as a
        review (the client messages wait there) and posted for a reviewer to release."""
        review = self.store.reviews.get(client.id, "client", period)
        if review is None:
            self.require_data(client.id)
            doc, state = self.digest(client.id, "client", as_of=as_of, before=period)
            rendered = [m.as_json() for m in digest_messages(doc)]
            part = self._chart_part(client, OutboxKey(client.id, "client", period), doc.as_of)
            if part is not None:
                rendered.append(part)
            review = self.store.reviews.add(
                client_id=client.id,
                audience="client",
                period=period,
                kind="digest",
                as_of=doc.as_of,
                messages=rendered,
                snapshot=_snapshot_json(reported_snapshot(state)),
                draft_audience="draft",
                at=self.clock(),
            )
        if review.state not in ("pending", "releasing"):
            return []
        return [self._draft_entry(client, review)]

    def _draft_entry(self, client: Client, review: Review) -> OutboxEntry:
        key = OutboxKey(client.id, review.draft_audience, review.period)
        existing = self.store.outbox.get(key)
        if existing is not None:
            return existing
        where = f"{client.name}, {client.client_channel}"
        return self.store.outbox.add(
            new_entry(
                key,
                client.internal_channel,
                review.as_of,
                draft_messages(review.messages, review.id, where),
            ),
            self.clock(),
        )

    def superseded_drafts(self, client_id: str) -> list[tuple[OutboxEntry, list[dict[str, Any]]]]:
        """Pending drafts a newer draft of the same kind replaces: each review is marked
        superseded (its buttons stop acting) and its draft is to be updated to say so."""
        client = self.client(client_id)
        out = []
        for kind in ("digest",):
            newest = self._newest_review(client.id, kind)
            if newest is None:
                continue
            for older in self.store.reviews.open_before(client.id, kind, newest.period):
                moved = self.store.reviews.move(older, "superseded", came_from=("pending",))
                draft = self.store.outbox.get(
                    OutboxKey(client.id, older.draft_audience, older.period)
                )
                if moved is not None and draft is not None and draft.posted:
                    out.append((draft, decided_messages(draft.messages, superseded(newest.period))))
        return out

    def _newest_review(self, client_id: str, kind: str) -> Review | None:
        period = self.period(self.client(client_id), "client")
        review = self.store.reviews.get(client_id, "client", period)
        return review if review is not None and review.kind == kind else None

    def awaiting_review(self, client_id: str) -> bool:
        """Whether this period's client digest is a draft no reviewer has decided yet."""
        client = self.client(client_id)
        if not client.review_required:
            return False
        review = self.store.reviews.get(client.id, "client", self.period(client, "client"))
        return review is not None and review.state == "pending"

    def may_review(self, client_id: str, user_id: str) -> bool:
        return user_id in self.client(client_id).reviewers

    def review(self, review_id: str) -> Review | None:
        parsed = parse_review_id(review_id)
        if parsed is None:
            return None
        client_id, audience, period = parsed
        if client_id not in {c.id for c in self.clients}:
            return None
        return self.store.reviews.get(client_id, audience, period)

    def begin_release(self, review: Review, user_id: str) -> Review | None:
        """First press of "Send to client" wins: pending -> releasing, recording who."""
        return self.store.reviews.move(
            review, "releasing", came_from=("pending",), by=user_id, at=self.clock()
        )

    def release_entry(self, review: Review) -> OutboxEntry:
        """The client post a released review makes (queued once, whoever asks)."""
        client = self.client(review.client_id)
        snapshot = {
            k: (dt.date.fromisoformat(v[0]) if v[0] else None, str(v[1]))
            for k, v in review.snapshot.items()
        }
        return self.store.outbox.add(
            new_entry(
                OutboxKey(client.id, review.audience, review.period),
                client.client_channel,
                review.as_of,
                review.messages,
                snapshot,
            ),
            self.clock(),
        )

    def finish_release(self, review: Review) -> tuple[OutboxEntry, list[dict[str, Any]]] | None:
        """releasing -> sent once the client post is in Slack; the draft's new messages."""
        done = self.store.reviews.move(review, "sent", came_from=("releasing",))
        current = done or self.store.reviews.get(review.client_id, review.audience, review.period)
        if current is None or current.state != "sent":
            return None
        return self._decided_draft(
            current, sent_by(current.decided_by or "", current.decided_at or self.clock())
        )

    def skip(self, review: Review, user_id: str) -> tuple[OutboxEntry, list[dict[str, Any]]] | None:
        moved = self.store.reviews.move(
            review, "skipped", came_from=("pending",), by=user_id, at=self.clock()
        )
        if moved is None:
            return None
        return self._decided_draft(moved, skipped_by(user_id, moved.decided_at or self.clock()))

    def _decided_draft(
        self, review: Review, outcome: Sequence[Span]
    ) -> tuple[OutboxEntry, list[dict[str, Any]]] | None:
        draft = self.store.outbox.get(
            OutboxKey(review.client_id, review.draft_audience, review.period)
        )
        if draft is None or not draft.posted:
            return None
        return draft, decided_messages(draft.messages, outcome)

    def unfinished_releases(self) -> list[Review]:
        return self.store.reviews.releasing()

    def headsup(self, client_id: str, milestone_id: str) -> OutboxEntry | None:
        """A draft heads-up to the client about one milestone's change (from an alert's
        button): the client view of what moved, why, what it pushes. None when the
        milestone is unknown or has nothing to say (done, or on its planned date)."""
        client = self.client(client_id)
        view = self.view(client.id, "client")
        milestone = next((m for m in view.milestones if m.id == milestone_id), None)
        if milestone is None or milestone.actual is not None:
            return None
        now = self.clock()
        period = now.replace(second=0, microsecond=0)
        tag = hashlib.sha256(f"{client.id}|{milestone_id}|{now.isoformat()}".encode()).hexdigest()
        review = self.store.reviews.add(
            client_id=client.id,
            audience=f"hu-{tag[:10]}",
            period=period,
            kind="headsup",
            as_of=view.as_of,
            messages=headsup_messages(view, milestone),
            snapshot={},
            draft_audience=f"hd-{tag[:10]}",
            at=now,
        )
        return self._draft_entry(client, review)

    def unsent_all(self, client_id: str) -> list[OutboxEntry]:
        """Every message of the client not fully posted yet (digests, drafts, alerts)."""
        return self.store.outbox.unsent_all(client_id)

    def correction(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> Correction | None:
        """This period's posted digest re-rendered; None when nothing was posted yet."""
        client = self.client(client_id)
        period = self.period(client, audience)
        if audience == "client" and client.review_required:
            return self._draft_correction(client, period, as_of)
        entry = self.store.outbox.get(OutboxKey(client.id, audience, period))
        if entry is None or not entry.posted:
            return None
        doc, state = self.digest(client.id, audience, as_of=as_of, before=period)
        rendered = tuple(m.as_json() for m in digest_messages(doc))
        return Correction(entry, rendered, reported_snapshot(state), doc.as_of)

    def _draft_correction(
        self, client: Client, period: dt.datetime, as_of: dt.date | None
    ) -> Correction | None:
        """A reviewed client digest is corrected in its draft, before anyone decides: the
        client channel never changes unreviewed. Once decided, ReviewDecided says so."""
        review = self.store.reviews.get(client.id, "client", period)
        if review is None:
            return None
        draft = self.store.outbox.get(OutboxKey(client.id, review.draft_audience, period))
        if review.state != "pending" or draft is None or not draft.posted:
            if review.state == "pending":
                return None  # the draft itself is not in Slack yet: --post will post it
            raise ReviewDecided(messages.correction_decided(client.id, review.state))
        doc, state = self.digest(client.id, "client", as_of=as_of, before=period)
        rendered = [m.as_json() for m in digest_messages(doc)]
        chart = [m for m in review.messages if "file" in m]  # the chart stays as drafted
        snapshot = _snapshot_json(reported_snapshot(state))
        revised = self.store.reviews.revise(review, [*rendered, *chart], snapshot, doc.as_of)
        if revised is None:
            decided = self.store.reviews.get(client.id, "client", period)
            raise ReviewDecided(
                messages.correction_decided(client.id, decided.state if decided else "sent")
            )
        where = f"{client.name}, {client.client_channel}"
        new = tuple(draft_messages(rendered, revised.id, where))  # the shared chart stays
        return Correction(draft, new, draft.snapshot, doc.as_of)


def channel_for(client: Client, audience: str) -> str:
    return client.internal_channel if audience == "internal" else client.client_channel


def reported_snapshot(state: ClientState) -> dict[str, tuple[dt.date | None, str]]:
    """What a digest of `state` reports per milestone (forecast, status): kept with the posted
    digest for the honesty rules of the next one."""
    return {m.id: (m.forecast, m.status.value) for m in state.milestones}


def _snapshot_json(snapshot: Reported) -> dict[str, Any]:
    """A reported snapshot as a review stores it (JSON: ISO dates)."""
    return {k: [v[0].isoformat() if v[0] else None, v[1]] for k, v in snapshot.items()}
