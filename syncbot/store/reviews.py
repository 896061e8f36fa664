"""Client posts waiting for a reviewer (SPEC §8): each draft, the client messages it holds, and
who released or skipped it. A review moves `pending` -> `releasing` (a reviewer pressed Send:
the client post is being made) -> `sent`, or `pending` -> `skipped` / `superseded`; every move
is one conditional UPDATE, so concurrent presses and several daemons agree on one outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import JSON, Date, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.store.db import Base, Database, UTCDateTime

ReviewState = Literal["pending", "releasing", "sent", "skipped", "superseded"]


class ReviewRow(Base):
    __tablename__ = "client_reviews"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    audience: Mapped[str] = mapped_column(String(16), primary_key=True)  # the client post's
    period: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "digest" | "headsup"
    state: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[dt.date] = mapped_column(Date)
    messages: Mapped[list[Any]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft_audience: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Review:
    client_id: str
    audience: str
    period: dt.datetime
    kind: str
    state: ReviewState
    as_of: dt.date
    messages: tuple[dict[str, Any], ...]
    snapshot: dict[str, Any]
    draft_audience: str
    decided_by: str | None
    decided_at: dt.datetime | None

    @property
    def id(self) -> str:
        """What a button carries: client, audience and period of the client post."""
        at = self.period.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.client_id}|{self.audience}|{at}"


def parse_id(value: str) -> tuple[str, str, dt.datetime] | None:
    parts = value.split("|")
    if len(parts) != 3:
        return None
    try:
        at = dt.datetime.strptime(parts[2], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return parts[0], parts[1], at


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        *,
        client_id: str,
        audience: str,
        period: dt.datetime,
        kind: str,
        as_of: dt.date,
        messages: list[dict[str, Any]],
        snapshot: dict[str, Any],
        draft_audience: str,
        at: dt.datetime,
    ) -> Review:
        """Store a new pending review unless one exists for the post; return the stored one."""

        def insert(session: Session) -> bool:
            if session.get(ReviewRow, (client_id, audience, period)) is None:
                session.add(
                    ReviewRow(
                        client_id=client_id,
                        audience=audience,
                        period=period,
                        kind=kind,
                        state="pending",
                        as_of=as_of,
                        messages=messages,
                        snapshot=snapshot,
                        draft_audience=draft_audience,
                        created_at=at,
                    )
                )
            return True

        self.db.attempt(insert)
        found = self.get(client_id, audience, period)
        assert found is not None
        return found

    def get(self, client_id: str, audience: str, period: dt.datetime) -> Review | None:
        with self.db.session() as session:
            row = session.get(ReviewRow, (client_id, audience, period.astimezone(dt.UTC)))
            return None if row is None else _review(row)

    def open_before(self, client_id: str, kind: str, period: dt.datetime) -> list[Review]:
        """Pending reviews of an earlier post of the same kind: a newer draft supersedes them."""
        with self.db.session() as session:
            rows = session.scalars(
                select(ReviewRow).where(
                    ReviewRow.client_id == client_id,
                    ReviewRow.kind == kind,
                    ReviewRow.state == "pending",
                    ReviewRow.period < period,
                )
            )
            return [_review(row) for row in rows]

    def releasing(self) -> list[Review]:
        """Releases a process began and did not finish (it died): the next one finishes."""
        with self.db.session() as session:
            rows = session.scalars(select(ReviewRow).where(ReviewRow.state == "releasing"))
            return [_review(row) for row in rows]

    def move(
        self,
        review: Review,
        to: ReviewState,
        *,
        came_from: tuple[ReviewState, ...],
        by: str | None = None,
        at: dt.datetime | None = None,
    ) -> Review | None:
        """Move the review to `to` if it is in one of `came_from`; None if it was not (someone
        else decided first). `by`/`at` are recorded when given."""
        values: dict[str, Any] = {"state": to}
        if by is not None:
            values["decided_by"] = by
        if at is not None:
            values["decided_at"] = at
        with self.db.session() as session:
            result = session.execute(
                update(ReviewRow)
                .where(
                    ReviewRow.client_id == review.client_id,
                    ReviewRow.audience == review.audience,
                    ReviewRow.period == review.period,
                    ReviewRow.state.in_(came_from),
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
        return self.get(review.client_id, review.audience, review.period)

    def revise(
        self,
        review: Review,
        messages: list[dict[str, Any]],
        snapshot: dict[str, Any],
        as_of: dt.date,
    ) -> Review | None:
        """New content for a draft nobody decided yet (a correction); None once a reviewer
        pressed a button: what they saw is what is sent."""
        with self.db.session() as session:
            result = session.execute(
                update(ReviewRow)
                .where(
                    ReviewRow.client_id == review.client_id,
                    ReviewRow.audience == review.audience,
                    ReviewRow.period == review.period,
                    ReviewRow.state == "pending",
                )
                .values(messages=messages, snapshot=snapshot, as_of=as_of)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
        return self.get(review.client_id, review.audience, review.period)


def _review(row: ReviewRow) -> Review:
    state: ReviewState = row.state  # type: ignore[assignment]
    return Review(
        client_id=row.client_id,
        audience=row.audience,
        period=row.period,
        kind=row.kind,
        state=state,
        as_of=row.as_of,
        messages=tuple(row.messages),
        snapshot=dict(row.snapshot),
        draft_audience=row.draft_audience,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )
