"""The `/syncbot` subcommands, answered from the store only (never a tracker call).

Where a command is typed decides what it may show (tenant isolation):

- a client's `client_channel`: that client only, and only through the client view
  (`views.status_document(..., "client")`, `views.client_view`, the client digest);
- a client's `internal_channel`: the internal view of the clients that use that channel (an
  agency may share one internal channel between clients: name one with `status acme`);
- any other channel (or a channel configured as the client channel of two clients): a polite
  refusal that names no client.

`signoff <phase>` is recorded only for a user in that client's `approvers`, typed in one of
that client's channels; phase names match case-insensitively. Replays of a signed request
within Slack's 5-minute window are harmless: every subcommand is a read or an idempotent
sign-off.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncbot import messages, service
from syncbot.config import Client, LoadedConfig
from syncbot.render.blocks import document_messages, escape
from syncbot.render.digest import Section, freshness_line, summary_line
from syncbot.render.views import Audience, status_document
from syncbot.store import Store

logger = logging.getLogger(__name__)
Payload = dict[str, Any]
_QUOTES = "\"'\u201c\u201d\u2018\u2019"  # straight and typographic quotes around a phase


@dataclass(frozen=True)
class SlashRequest:
    """The fields of a slash command payload that syncbot uses."""

    command: str
    text: str
    channel_id: str
    user_id: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SlashRequest:
        return cls(
            command=str(payload.get("command") or "/syncbot"),
            text=str(payload.get("text") or ""),
            channel_id=str(payload.get("channel_id") or ""),
            user_id=str(payload.get("user_id") or ""),
        )


@dataclass(frozen=True)
class Reply:
    """Slack message payloads ({"text", "blocks"?}): the first answers the command (the ack),
    the others follow through response_url. `public`: visible to the channel."""

    messages: tuple[Payload, ...]
    public: bool = False


@dataclass(frozen=True)
class _Place:
    audience: Audience
    clients: tuple[Client, ...]


def _text(text: str, *, public: bool = False) -> Reply:
    return Reply(({"text": text},), public=public)


class Commands:
    """Answers slash commands; `now` is injected (the composition root owns the clock)."""

    def __init__(
        self, loaded: LoadedConfig, store: Store, *, now: Callable[[], dt.datetime]
    ) -> None:
        self.loaded = loaded
        self.store = store
        self.now = now

    def handle(self, request: SlashRequest) -> Reply:
        words = request.text.split()
        sub = words[0].lower() if words else "help"
        args = words[1:]
        place = self._place(request.channel_id)
        if isinstance(place, str):
            return _text(place)
        several = place.audience == "internal" and len(place.clients) > 1
        if sub == "help":
            return _text(messages.slash_help(request.command, several_clients=several))
        if sub == "signoff":
            return self._signoff(request, place, args)
        handlers = {
            "status": self._status,
            "milestones": self._milestones,
            "blockers": self._blockers,
            "digest": self._digest,
        }
        handler = handlers.get(sub)
        if handler is None:
            return _text(messages.slash_unknown(escape(sub), request.command))
        chosen = self._choose(request, place, sub, args, need_one=sub == "digest")
        if isinstance(chosen, Reply):
            return chosen
        out: list[Payload] = []
        for client in chosen:
            out += handler(client, place.audience)
        return Reply(tuple(out))

    # -- where are we -------------------------------------------------------------------

    def _place(self, channel: str) -> _Place | str:
        clients = self.loaded.config.clients
        # Config validation guarantees a client channel belongs to one client only and is
        # nobody's internal channel (config._channel_problems), so this lookup is unambiguous.
        client_side = tuple(c for c in clients if c.client_channel == channel)
        if client_side:
            return _Place("client", client_side)
        internal = tuple(c for c in clients if c.internal_channel == channel)
        if internal:
            return _Place("internal", internal)
        return messages.NOT_A_PROJECT_CHANNEL

    def _choose(
        self,
        request: SlashRequest,
        place: _Place,
        sub: str,
        args: Sequence[str],
        *,
        need_one: bool,
    ) -> tuple[Client, ...] | Reply:
        if place.audience == "client":
            return place.clients  # one client; an argument cannot widen what is shown here
        ids = [c.id for c in place.clients]
        if args:
            wanted = [c for c in place.clients if c.id == args[0].lower()]
            if not wanted:
                return _text(messages.slash_not_served_here(escape(args[0]), ids))
            return (wanted[0],)
        if need_one and len(place.clients) > 1:
            return _text(messages.slash_which_client(request.command, sub, ids))
        return place.clients

    # -- answers --------------------------------------------------------------------------

    def _state_doc(self, client: Client, audience: Audience) -> tuple[dict[str, Any], str]:
        now = self.now()
        state = service.client_state(
            self.loaded,
            client,
            self.store,
            as_of=service.today(client, now),
            now=now,
            audience=audience,
        )
        doc = status_document(state, audience, service.opaque_for(self.store, client.id))
        freshness = freshness_line(state, now)
        overdue = sum(1 for d in doc["dependencies"] if d["due"] and d["due"] < doc["as_of"])
        summary = summary_line(
            doc["spi"], [m["status"] for m in doc["milestones"]], overdue, freshness
        )
        return doc, summary

    def _links(self, client: Client, audience: Audience) -> dict[str, str]:
        return service.ticket_links(client, self.store) if audience == "internal" else {}

    def _status(self, client: Client, audience: Audience) -> list[Payload]:
        doc, summary = self._state_doc(client, audience)
        internal = audience == "internal"
        attention = tuple(
            _milestone_line(m, internal)
            for m in doc["milestones"]
            if m["status"] in ("at_risk", "delayed")
        )
        overdue = sum(1 for d in doc["dependencies"] if d["due"] and d["due"] < doc["as_of"])
        sections = [
            Section(messages.ATTENTION, attention or (messages.ALL_ON_TRACK,)),
            Section(
                messages.SECTION_NEEDED_INTERNAL if internal else messages.SECTION_NEEDED_CLIENT,
                (messages.open_dependencies(len(doc["dependencies"]), overdue),),
            ),
        ]
        if doc["warnings"]:
            sections.append(
                Section(
                    messages.SECTION_WARNINGS,
                    tuple(_warning_line(w, internal) for w in doc["warnings"]),
                )
            )
        return _render(
            messages.status_title(client.name, _date(doc["as_of"])),
            summary,
            sections,
            self._links(client, audience),
        )

    def _milestones(self, client: Client, audience: Audience) -> list[Payload]:
        doc, summary = self._state_doc(client, audience)
        internal = audience == "internal"
        lines = tuple(_milestone_line(m, internal) for m in doc["milestones"])
        return _render(
            messages.milestones_title(client.name, _date(doc["as_of"])),
            summary,
            [Section(messages.SECTION_MILESTONES, lines or (messages.NO_MILESTONES_CLIENT,))],
            self._links(client, audience),
        )

    def _blockers(self, client: Client, audience: Audience) -> list[Payload]:
        doc, summary = self._state_doc(client, audience)
        internal = audience == "internal"
        names = {m["id"]: m["name"] for m in doc["milestones"]}
        lines = tuple(
            _dependency_line(d, doc["as_of"], names, internal) for d in doc["dependencies"]
        )
        heading = messages.SECTION_NEEDED_INTERNAL if internal else messages.SECTION_NEEDED_CLIENT
        return _render(
            messages.blockers_title(client.name, _date(doc["as_of"])),
            summary,
            [Section(heading, lines or (messages.NO_BLOCKERS,))],
            self._links(client, audience),
        )

    def _digest(self, client: Client, audience: Audience) -> list[Payload]:
        now = self.now()
        doc, _ = service.digest_for(
            self.loaded,
            client,
            self.store,
            audience,
            as_of=service.today(client, now),
            now=now,
        )
        return [
            m.as_json()
            for m in document_messages(
                doc.title,
                doc.summary,
                doc.sections,
                links=dict(doc.links),
                note=messages.DIGEST_PREVIEW,
            )
        ]

    # -- sign-off ---------------------------------------------------------------------------

    def _signoff(self, request: SlashRequest, place: _Place, args: Sequence[str]) -> Reply:
        clients = place.clients
        if len(clients) > 1:
            wanted = [c for c in clients if args and c.id == args[0].lower()]
            if not wanted:
                return _text(
                    messages.slash_which_client(request.command, "signoff", [c.id for c in clients])
                )
            clients, args = (wanted[0],), args[1:]
        client = clients[0]
        if request.user_id not in client.approvers:
            logger.warning(
                "sign-off refused: user %s is not an approver of %s", request.user_id, client.id
            )
            return _text(messages.signoff_not_approver(client.name))
        phases = client.phase_order()
        given = " ".join(args).strip().strip(_QUOTES).strip()
        if not given:
            return _text(messages.signoff_which_phase(request.command, phases))
        phase = _match_phase(given, phases)
        if phase is None:
            return _text(messages.signoff_unknown_phase(escape(given), phases))
        before = {s.phase for s in self.store.sign_offs(client.id)}
        now = self.now()
        record = self.store.sign_off(client.id, phase, request.user_id, now)
        day = record.signed_at.astimezone(client.tz).date()
        if phase in before:
            return _text(messages.signoff_already(phase, record.user_id, day))
        logger.info("phase %r of %s signed off by %s", phase, client.id, request.user_id)
        return _text(messages.signoff_recorded(phase, record.user_id, day), public=True)


def _match_phase(given: str, phases: Sequence[str]) -> str | None:
    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    wanted = norm(given)
    for phase in phases:
        if norm(phase) == wanted:
            return phase
    return None


def _render(
    title: str, summary: str, sections: Sequence[Section], links: Mapping[str, str]
) -> list[Payload]:
    return [m.as_json() for m in document_messages(title, summary, sections, links=links)]


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _milestone_line(m: Mapping[str, Any], internal: bool) -> str:
    """One milestone of a SPEC §6 document (either audience's: the fields are the same)."""
    return messages.milestone_line(
        status=messages.STATUS_LABEL[m["status"]],
        name=f"{m['id']} {m['name']}" if internal else m["name"],
        phase=m["phase"],
        planned=m["planned"],
        forecast=m["forecast"],
        actual=m["actual"],
        done=m["tickets_done"],
        total=m["tickets_total"],
        owner=m["owner"] if internal else "",
        blocked_by=m["blocked_by"] if internal else (),
    )


def _dependency_line(
    d: Mapping[str, Any], as_of: str, names: Mapping[str, str], internal: bool
) -> str:
    return messages.dependency_line(
        what=f"{d['id']} {d['summary']}" if internal else d["summary"],
        owner=d["owner"],
        due=d["due"],
        overdue=bool(d["due"] and d["due"] < as_of),
        blocks=[f"{b} {names.get(b, '')}".strip() for b in d["blocks"]] if internal else None,
        impact=d["impact_statement"],
        internal=internal,
    )


def _warning_line(w: Mapping[str, Any], internal: bool) -> str:
    return f"[{w['kind']}] {w['message']}" if internal else str(w["message"])
