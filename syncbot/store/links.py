"""Client page links (`syncbot share`, SPEC §9): who may read which client's page, until when.

A link is a random token (`secrets.token_urlsafe(24)`: 192 bits) that only its holder knows:
the store keeps its SHA-256, never the token, so a copy of the database opens no page. (A
slow password hash buys nothing for a token this random, and a lookup must be cheap: every
page view makes one.) A link belongs to one client, expires (`expires_at`), can be revoked
(`revoked_at`), and remembers when it was last used (`last_used_at`, written at most once a
minute per link, so a page reloaded in a loop does not turn every view into a write).

`use` is the one question the web adapter asks: the client of a token that is known, not
expired and not revoked, else None; the three cases are indistinguishable to the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from syncbot.store.db import Base, Database, UTCDateTime

TOKEN_BYTES = 24  # 192 random bits; SPEC §9 asks for at least 128
LAST_USED_EVERY = dt.timedelta(minutes=1)
ID_CHARS = 10  # a link's shown id: the start of its hash (the token itself is shown once)


class LinkRow(Base):
    __tablename__ = "share_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class ShareLink:
    """A link as `share --list` shows it (never its token)."""

    id: str  # the first characters of the token's hash
    client_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def active(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class LinkStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, client_id: str, at: dt.datetime, expires_in: dt.timedelta
    ) -> tuple[str, ShareLink]:
        """A new link for `client_id`: (the token, to be shown once, and the stored link)."""
        token = new_token()
        row = LinkRow(
            token_hash=token_hash(token),
            client_id=client_id,
            created_at=at,
            expires_at=at + expires_in,
        )
        with self.db.session() as session:
            session.add(row)
            session.flush()
            return token, _link(row)

    def use(self, token: str, at: dt.datetime) -> ShareLink | None:
        """The link `token` opens now (its client's page), recording the use; None when the
        token is unknown, expired or revoked (alike)."""
        digest = token_hash(token)
        with self.db.session() as session:
            row = session.get(LinkRow, digest)
            if row is None or row.revoked_at is not None or at >= row.expires_at:
                return None
            link = _link(row)
            session.execute(
                update(LinkRow)
                .where(
                    LinkRow.token_hash == digest,
                    or_(
                        LinkRow.last_used_at.is_(None),
                        LinkRow.last_used_at < at - LAST_USED_EVERY,
                    ),
                )
                .values(last_used_at=at)
                .execution_options(synchronize_session=False)
            )
            return link

    def list(self, client_id: str) -> list[ShareLink]:
        """Every link of a client, newest first (revoked and expired ones too)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(LinkRow)
                .where(LinkRow.client_id == client_id)
                .order_by(LinkRow.created_at.desc(), LinkRow.token_hash)
            )
            return [_link(row) for row in rows]

    def revoke(self, client_id: str, token_or_id: str, at: dt.datetime) -> ShareLink | None:
        """Revoke the client's link given by its token or by the id `list` shows (at least
        ID_CHARS characters of its hash); None when the client has no such link. A link
        revoked before keeps its first revocation time."""
        wanted = token_or_id.strip()
        with self.db.session() as session:
            row = session.get(LinkRow, token_hash(wanted))
            if (
                row is None
                and len(wanted) >= ID_CHARS
                and all(c in "0123456789abcdef" for c in wanted)
            ):
                matches = list(
                    session.scalars(
                        select(LinkRow).where(
                            LinkRow.client_id == client_id, LinkRow.token_hash.startswith(wanted)
                        )
                    )
                )
                row = matches[0] if len(matches) == 1 else None
            if row is None or row.client_id != client_id:
                return None
            row.revoked_at = row.revoked_at or at
            session.flush()
            return _link(row)

    def revoke_all(self, client_id: str, at: dt.datetime) -> int:
        """Revoke every active link of a client; how many were active."""
        with self.db.session() as session:
            result = session.execute(
                update(LinkRow)
                .where(
                    LinkRow.client_id == client_id,
                    LinkRow.revoked_at.is_(None),
                    LinkRow.expires_at > at,
                )
                .values(revoked_at=at)
                .execution_options(synchronize_session=False)
            )
            return int(getattr(result, "rowcount", 0) or 0)


def _link(row: LinkRow) -> ShareLink:
    return ShareLink(
        id=row.token_hash[:ID_CHARS],
        client_id=row.client_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
