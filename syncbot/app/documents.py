"""What is rendered from a state: digests, slash command answers, the trend chart, and the
client page with its share links (SPEC §9).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from syncbot import messages
from syncbot.app.base import AUDIENCES
from syncbot.app.states import Computed
from syncbot.app.syncing import Syncing
from syncbot.config import Client
from syncbot.domain import ClientState
from syncbot.errors import NoData, StoreError
from syncbot.render import chart, replies
from syncbot.render.blocks import document_messages
from syncbot.render.digest import client_digest, freshness_line, internal_digest
from syncbot.render.doc import DigestDoc, Document
from syncbot.render.trend import Trend, trend
from syncbot.render.views import Audience, audience_view
from syncbot.store import OutboxKey, ShareLink
from syncbot.store.outbox import PostedDigest

logger = logging.getLogger(__name__)


class Documents(Syncing):
    """Digests, answers, the trend chart and the client page, rendered from states."""

    def digest(
        self,
        client_id: str,
        audience: Audience,
        *,
        as_of: dt.date | None = None,
        before: dt.datetime | None = None,
    ) -> tuple[DigestDoc, ClientState]:
        """The digest `audience` gets, and the state it reports, told relative to the last
        digest posted to `audience` (for a digest of a given period: the last one of an
        earlier period, `before`): forecast moves, skipped at-risk, completed since."""
        client = self.client(client_id)
        computed = self._computed(client.id, as_of=as_of, audience=audience, before=before)
        state, last = computed.state, computed.last
        since = self._since(client, audience, state.as_of, last)
        done_before = (
            {mid for mid, (_, status) in last.snapshot.items() if status == "done"}
            if last
            else None
        )
        now = self.clock()
        if audience == "client":
            view = audience_view(state, "client", self.opaque(client.id))
            doc = client_digest(
                view,
                since,
                freshness_line(view.sources, now),
                done_before=done_before,
                people=client.people,
            )
            return doc, state
        doc = internal_digest(state, since, now, links=computed.links, done_before=done_before)
        return doc, state

    def _since(
        self, client: Client, audience: str, as_of: dt.date, last: PostedDigest | None
    ) -> dt.date:
        """Start of the period a digest covers: the as-of date of the last digest posted to
        that audience, else one cadence back from the as-of date."""
        if last is not None and last.as_of <= as_of:
            return last.as_of
        weeks = 1 if audience == "internal" else self.schedule(client).client_digest_every_weeks
        return as_of - dt.timedelta(weeks=weeks)

    def reply(self, client_id: str, audience: Audience, what: str) -> Document:
        """A slash command answer (`status`, `milestones`, `blockers`, `digest`)."""
        if what == "digest":
            doc, _ = self.digest(client_id, audience)
            return replies.digest_preview(doc)
        computed = self._computed(client_id, as_of=None, audience=audience, before=None)
        return self._reply(client_id, audience, what, computed)

    def reply_if_kept(self, client_id: str, audience: Audience, what: str) -> Document | None:
        """The answer if today's state is already computed (what an ack may carry); None
        rather than compute it."""
        computed = self.computed_if_kept(client_id, audience)
        if computed is None:
            return None
        if what == "digest":
            return self.reply(client_id, audience, what)  # from the kept state
        return self._reply(client_id, audience, what, computed)

    def warm(self) -> int:
        """Read every synced client's kept states (both audiences, today) into memory and
        render their `status` answers, computing no state: run once at start-up, so that a
        restarted daemon's first answers cost what its later ones do (issue 9). The number
        of states read; a failing store stops it (answers then read as they go)."""
        read = 0
        try:
            for client in self.clients:
                try:
                    for audience in AUDIENCES:
                        read += self.answer_if_kept(client.id, audience, "status") is not None
                except NoData:
                    continue  # never synced: nothing kept for either audience
        except StoreError:
            logger.info("kept states not read ahead: the store failed", exc_info=True)
        return read

    def answer_if_kept(
        self, client_id: str, audience: Audience, what: str
    ) -> tuple[dict[str, Any], ...] | None:
        """A slash answer as Slack messages if today's state is already computed (what an ack
        may carry); None rather than compute it. Rendered once per kept state and source
        health, then reused: fifty people asking at once cost one rendering. Apart from the
        state, an answer depends on the clock only through the freshness line (a stale source's
        "last refreshed N min ago"), which is part of the key. The messages are shared: never
        change them."""
        if what == "digest":
            doc = self.reply_if_kept(client_id, audience, what)
            return None if doc is None else tuple(self.document_messages(doc))
        found = self._kept_today(client_id, audience)
        if found is None:
            return None
        inputs, kept = found
        now = self.clock()
        key = (inputs.version, inputs.health, freshness_line(inputs.health, now))
        slot = (client_id, audience, what)
        with self._lock:
            held = self._answers.get(slot)
        if held is not None and held[0] == key:
            return held[1]
        doc = self._reply(client_id, audience, what, self._fresh(inputs, kept, now), now)
        rendered = tuple(self.document_messages(doc))
        with self._lock:
            self._answers[slot] = (key, rendered)
        return rendered

    def _reply(
        self,
        client_id: str,
        audience: Audience,
        what: str,
        computed: Computed,
        now: dt.datetime | None = None,
    ) -> Document:
        view = audience_view(computed.state, audience, self.opaque(client_id))
        internal = audience == "internal"
        links = computed.links if internal else {}
        fresh = freshness_line(view.sources, now or self.clock())
        build = {
            "status": replies.status_reply,
            "milestones": replies.milestones_reply,
            "blockers": replies.blockers_reply,
        }[what]
        return build(view, internal=internal, links=links, freshness=fresh)

    def trend(
        self, client_id: str, audience: Audience = "internal", *, as_of: dt.date | None = None
    ) -> Trend:
        """The milestone trend over the recorded reports (up to `as_of`, when given), named
        from `audience`'s view."""
        client = self.client(client_id)
        view = self.view(client.id, audience, as_of=as_of)
        recorded = {
            day: {s.milestone_id: (s.actual or s.forecast, s.status) for s in snapshots}
            for day, snapshots in self.store.history.load(client.id, until=as_of).items()
        }
        return trend(view, recorded, audience)

    def chart(
        self, client_id: str, audience: Audience = "internal", *, as_of: dt.date | None = None
    ) -> tuple[Trend, bytes]:
        """The trend and its PNG, drawn again only when the trend changed (page views and
        the digests of one period ask for the same picture)."""
        value = self.trend(client_id, audience, as_of=as_of)
        with self._lock:
            held = self._charts.get((client_id, audience))
        if held is not None and held[0] == value:
            return value, held[1]
        data = chart.png(value)
        with self._lock:
            self._charts[(client_id, audience)] = (value, data)
        return value, data

    def _chart_part(self, client: Client, key: OutboxKey, as_of: dt.date) -> dict[str, Any] | None:
        """The trend chart as the last part of a client digest, once there are two reports."""
        value, data = self.chart(client.id, "client", as_of=as_of)
        if not value.charted:
            return None
        tag = hashlib.sha256(key.text.encode()).hexdigest()[:10]
        return chart.file_part(
            value,
            data,
            filename=f"milestone-trend-{as_of.isoformat()}-{tag}.png",
            title=messages.chart_file_title(client.name, as_of),
        )

    def share(self, client_id: str, expires_in: dt.timedelta) -> tuple[str, ShareLink]:
        """A new link to the client's page: (its URL, shown once, and the stored link)."""
        client = self.client(client_id)
        token, link = self.store.links.create(client.id, self.clock(), expires_in)
        return self.share_url(token), link

    def share_url(self, token: str) -> str:
        base = (self.settings.public_url or "").rstrip("/")
        return f"{base}/c/{token}"

    def shares(self, client_id: str) -> list[ShareLink]:
        return self.store.links.list(self.client(client_id).id)

    def unshare(self, client_id: str, token: str) -> ShareLink | None:
        """Revoke one link, given as its token, its URL or the id `shares` lists."""
        given = token.strip().rstrip("/")
        if "/c/" in given:
            given = given.rsplit("/c/", 1)[1].split("/")[0]
        return self.store.links.revoke(self.client(client_id).id, given, self.clock())

    def unshare_all(self, client_id: str) -> int:
        return self.store.links.revoke_all(self.client(client_id).id, self.clock())

    def shared(self, token: str) -> tuple[Client, ShareLink] | None:
        """The client whose page `token` opens (recording the use), or None: unknown,
        expired and revoked tokens, and a client no longer configured, are alike."""
        if not token or len(token) > 200:
            return None
        link = self.store.links.use(token, self.clock())
        if link is None:
            return None
        client = next((c for c in self.clients if c.id == link.client_id), None)
        return (client, link) if client is not None else None

    def page(self, token: str, *, chart_url: str = "trend.png") -> str | None:
        """The client page `token` opens, as HTML; None for any token that opens none."""
        from syncbot.render.page import PageChart, client_page, no_data_page

        found = self.shared(token)
        if found is None:
            return None
        client, link = found
        try:
            self.require_data(client.id)
        except NoData:
            return no_data_page(client.name)
        doc, state = self.digest(client.id, "client")
        view = audience_view(state, "client", self.opaque(client.id))
        value = self.trend(client.id, "client")
        width, height = chart.pixel_size(value)
        shown = PageChart(
            url=chart_url if value.charted else None,
            alt=chart.alt_text(value),
            width=width,
            height=height,
            note=None
            if value.charted
            else messages.TREND_ONE_REPORT
            if value.reports
            else messages.TREND_NO_REPORTS,
        )
        return client_page(
            view,
            doc,
            freshness=freshness_line(view.sources, self.clock()),
            chart=shown,
            expires=link.expires_at,
        )

    def page_chart(self, token: str) -> bytes | None:
        """The trend chart of the page `token` opens (client audience); None as for `page`."""
        found = self.shared(token)
        if found is None:
            return None
        client, _ = found
        try:
            self.require_data(client.id)
        except NoData:
            return None
        return self.chart(client.id, "client")[1]

    def document_messages(self, doc: Document) -> list[dict[str, Any]]:
        return [m.as_json() for m in document_messages(doc)]
