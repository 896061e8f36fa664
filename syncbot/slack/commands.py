"""The `/syncbot` subcommands: parsing and tenant isolation; the answers come from the app.

Where a command is typed decides what it may show (tenant isolation):

- a client's `client_channel`: that client only, and only through the client view;
- a client's `internal_channel`: the internal view of the clients that use that channel (an
  agency may share one internal channel between clients: name one with `status acme`);
- any other channel: a polite refusal that names no client.

`signoff <phase>` is recorded only for a user in that client's `approvers`, typed in one of
that client's channels; phase names match case-insensitively. Every answer is rendered through
`render.blocks`, so whatever a user typed is escaped before it is echoed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncbot import messages
from syncbot.app import Syncbot
from syncbot.config import Client
from syncbot.errors import NoData
from syncbot.render.blocks import document_messages, spans_mrkdwn
from syncbot.render.doc import Mention, Span
from syncbot.render.views import Audience

logger = logging.getLogger(__name__)
Payload = dict[str, Any]
_QUOTES = "\"'\u201c\u201d\u2018\u2019"  # straight and typographic quotes around a phase
ANSWERS = ("status", "milestones", "blockers", "digest")


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


def _text(*spans: Span, public: bool = False) -> Reply:
    return Reply(({"text": spans_mrkdwn(*spans)},), public=public)


class Commands:
    """Answers slash commands through the application object."""

    def __init__(self, app: Syncbot) -> None:
        self.app = app

    def handle(self, request: SlashRequest) -> Reply:
        reply = self._handle(request, cached_only=False)
        assert reply is not None
        return reply

    def quick(self, request: SlashRequest) -> Reply | None:
        """The answer if it needs no computing and no database write (help, refusals, or an
        answer from a state already computed); None: answer it later, through `handle`."""
        return self._handle(request, cached_only=True)

    def _handle(self, request: SlashRequest, *, cached_only: bool) -> Reply | None:
        words = request.text.split()
        sub = words[0].lower() if words else "help"
        args = words[1:]
        place = self._place(request.channel_id)
        if isinstance(place, str):
            return _text(place)
        several = place.audience == "internal" and len(place.clients) > 1
        if sub == "help":
            return _text(messages.slash_help(request.command, several_clients=several))
        if sub in ("signoff", "note") and cached_only:
            return None  # they write to the store: never in the ack
        if sub == "signoff":
            return self._signoff(request, place, args)
        if sub == "note":
            return self._note(request, place, args)
        if sub not in ANSWERS:
            return _text(messages.slash_unknown(sub, request.command))
        chosen = self._choose(request, place, sub, args, need_one=sub == "digest")
        if isinstance(chosen, Reply):
            return chosen
        out: list[Payload] = []
        for client in chosen:
            answer = self.answer(client, place.audience, sub, cached_only=cached_only)
            if answer is None:
                return None
            out += answer
        return Reply(tuple(out))

    def answer(
        self, client: Client, audience: Audience, what: str, *, cached_only: bool = False
    ) -> list[Payload] | None:
        try:
            if cached_only:  # its reads tell whether any source has synced: one pass
                kept = self.app.answer_if_kept(client.id, audience, what)
                return None if kept is None else list(kept)
            self.app.require_data(client.id)
            doc = self.app.reply(client.id, audience, what)
        except NoData:
            return [{"text": spans_mrkdwn(messages.slash_no_data(client.name))}]
        return [m.as_json() for m in document_messages(doc)]

    # -- where are we -------------------------------------------------------------------

    def _place(self, channel: str) -> _Place | str:
        clients = self.app.clients
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
                return _text(messages.slash_not_served_here(args[0], ids))
            return (wanted[0],)
        if need_one and len(place.clients) > 1:
            return _text(messages.slash_which_client(request.command, sub, ids))
        return place.clients

    # -- notes --------------------------------------------------------------------------------

    def _note(self, request: SlashRequest, place: _Place, args: Sequence[str]) -> Reply:
        """`note <milestone> <text>` / `note <milestone> clear`: reviewers, internal channel."""
        if place.audience != "internal":
            return _text(messages.NOTE_INTERNAL_ONLY)
        target = _note_target(place, args)
        if isinstance(target, str):
            return _text(target)
        client, milestone, words = target
        if not self.app.may_review(client.id, request.user_id):
            logger.warning("note refused: %s is not a reviewer of %s", request.user_id, client.id)
            return _text(messages.note_not_reviewer(client.name))
        if milestone not in {m.id for m in client.milestones}:
            return _text(
                messages.note_unknown_milestone(milestone, [m.id for m in client.milestones])
            )
        clear = len(words) == 1 and words[0].lower() == "clear"
        self.app.note(client.id, milestone, None if clear else " ".join(words), by=request.user_id)
        if clear:
            return _text(messages.note_cleared(milestone), public=True)
        return _text(messages.note_set(milestone), public=True)

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
            return _text(messages.signoff_unknown_phase(given, phases))
        record, new = self.app.sign_off(client.id, phase, request.user_id)
        day = record.signed_at.astimezone(client.tz).date()
        if not new:
            before, after = messages.signoff_already(phase, day)
            return _text(before, Mention(record.user_id), after)
        logger.info("phase %r of %s signed off by %s", phase, client.id, request.user_id)
        before, after = messages.signoff_recorded(phase, day)
        return _text(before, Mention(record.user_id), after, public=True)


def _note_target(place: _Place, args: Sequence[str]) -> tuple[Client, str, list[str]] | str:
    """(client, milestone id, the rest) of `note [client] <milestone> <text|clear>`."""
    rest = list(args)
    clients = place.clients
    if len(clients) > 1:
        wanted = [c for c in clients if rest and c.id == rest[0].lower()]
        if not wanted:
            return messages.slash_which_client("/syncbot", "note", [c.id for c in clients])
        clients, rest = (wanted[0],), rest[1:]
    if len(rest) < 2:
        return messages.NOTE_USAGE
    return clients[0], rest[0], rest[1:]


def _match_phase(given: str, phases: Sequence[str]) -> str | None:
    def norm(text: str) -> str:
        return " ".join(text.casefold().split())

    wanted = norm(given)
    for phase in phases:
        if norm(phase) == wanted:
            return phase
    return None
