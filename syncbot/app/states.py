"""A client's state as an audience would be told it, and what it is made of.

The state is computed once per version of its inputs (the stored tickets' generations, notes,
sign-offs, metric readings, the last posted digest, the day, the configuration) and kept: in
memory here, in the store for other processes. Answers render from it and never recompute it;
the clock-dependent parts (freshness, staleness warnings) are added on every read. Tickets are
read from the store once per sync and held for the last few clients only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from syncbot import __version__, messages
from syncbot.app.base import Base, StoredInputs
from syncbot.config import Client
from syncbot.domain import ClientState, MetricReading, SourceHealth, Ticket, Warning, WarningKind
from syncbot.errors import ConfigError, NoData, StoreError
from syncbot.render.views import Audience, ClientView, OpaqueId, audience_view, opaque_ids
from syncbot.rules import freshness
from syncbot.rules.state import compute_state
from syncbot.store import Kept, SignOff
from syncbot.store.outbox import PostedDigest
from syncbot.store.tickets import SourceRecord

logger = logging.getLogger(__name__)
TICKETS_KEPT = 2  # clients whose tickets stay in memory (the ones being synced)
STORED_KEPT = 1000  # (client, audience, period) whose stored inputs stay in memory


@dataclass(frozen=True)
class Computed:
    """A state as an answer uses it: with the last posted digest it was told against, and
    the tracker URLs of the ticket keys it names (internal answers link them)."""

    state: ClientState
    last: PostedDigest | None
    links: dict[str, str]


@dataclass(frozen=True)
class StateInputs:
    """What a state is made of, and the version that names it."""

    client: Client
    health: tuple[SourceHealth, ...]
    last: PostedDigest | None
    signed: frozenset[str]
    notes: dict[str, str]
    readings: dict[str, MetricReading]
    day: dt.date
    slot: str
    version: str


class States(Base):
    """States: computed once per version of their inputs, kept, read fresh."""

    def tickets(self, client: Client) -> list[Ticket]:
        """The client's stored tickets, read once per sync of them (whichever process
        synced): kept for the last few clients only, since computed states are what
        answers use (a daemon of 50 clients does not hold 50 clients' tickets)."""
        stamp = tuple(sorted(self.store.tickets.generations(client.id).items()))
        with self._lock:
            held = self._tickets.get(client.id)
        if held is not None and held[0] == stamp:
            return held[1]
        tickets = self.store.tickets.load(
            client.id,
            [s.name for s in client.ticket_sources],
            described=client.experiment_labels,  # the one rule that reads descriptions
        )
        with self._lock:
            self._tickets.pop(client.id, None)
            self._tickets[client.id] = (stamp, tickets)
            while len(self._tickets) > TICKETS_KEPT:
                self._tickets.pop(next(iter(self._tickets)))
        return tickets

    def freshness(self, client_id: str) -> tuple[SourceHealth, ...]:
        """Each source's freshness now (`rules.freshness`: the one staleness rule)."""
        client = self.client(client_id)
        return self._health(client, self._records(client))

    def _records(self, client: Client) -> dict[str, SourceRecord]:
        records = self.store.tickets.records(client.id)
        if client.metric_source is not None:
            records.update(self.store.readings.records(client.id))
        return records

    def _health(
        self, client: Client, records: Mapping[str, SourceRecord]
    ) -> tuple[SourceHealth, ...]:
        every = self.schedule(client).sync_every_minutes
        now = self.clock()
        out = []
        for source in client.all_sources:
            record = records.get(source.name)
            out.append(
                freshness.source_health(
                    source.name,
                    source.kind,
                    last_success=record.last_success if record else None,
                    last_attempt=record.last_attempt if record else None,
                    last_error=record.last_error if record else None,
                    now=now,
                    sync_every_minutes=every,
                )
            )
        return tuple(out)

    def require_data(self, client_id: str) -> None:
        """NoData when none of the client's sources has ever synced successfully."""
        if not any(h.last_success for h in self.freshness(client_id)):
            raise NoData(messages.no_data(client_id))

    def state(
        self,
        client_id: str,
        *,
        as_of: dt.date | None = None,
        audience: Audience = "internal",
        before: dt.datetime | None = None,
    ) -> ClientState:
        """The state of `client` as `audience` would be told it.

        The honesty rules (forecast moved, skipped at-risk) compare with the last digest
        *posted* to `audience` (before `before`, for a digest of a given period); before the
        first one there is nothing to compare with. The phase gate runs once the client can
        sign off phases (it has approvers) or has signed one off: without approvers nobody
        could ever satisfy it, so it would only be noise.
        """
        state, _ = self._state(client_id, as_of=as_of, audience=audience, before=before)
        return state

    def _state(
        self,
        client_id: str,
        *,
        as_of: dt.date | None,
        audience: Audience,
        before: dt.datetime | None,
    ) -> tuple[ClientState, PostedDigest | None]:
        computed = self._computed(client_id, as_of=as_of, audience=audience, before=before)
        return computed.state, computed.last

    def _computed(
        self,
        client_id: str,
        *,
        as_of: dt.date | None,
        audience: Audience,
        before: dt.datetime | None,
    ) -> Computed:
        """The state, computed once per version of what it is made of and kept (in memory
        here, in the store for other processes): answers render from it, they never
        recompute it. The sources' freshness and staleness warnings depend on the clock,
        not on the data: they are added on every read."""
        inputs = self._inputs(client_id, as_of, audience, before)
        kept = self._kept(inputs)
        if kept is None:
            kept = self._compute(inputs)
        return self._fresh(inputs, kept)

    def computed_if_kept(self, client_id: str, audience: Audience) -> Computed | None:
        """Today's state if it is already computed (a few small reads, no computing): what a
        slash command may answer at once, in its ack. NoData before any source has synced."""
        found = self._kept_today(client_id, audience)
        return None if found is None else self._fresh(*found)

    def _kept_today(self, client_id: str, audience: Audience) -> tuple[StateInputs, Kept] | None:
        """Today's inputs and kept state, None when not computed; NoData as above."""
        inputs = self._inputs(client_id, None, audience, None)
        if not any(h.last_success for h in inputs.health):
            raise NoData(messages.no_data(client_id))
        kept = self._kept(inputs)
        return None if kept is None else (inputs, kept)

    def _inputs(
        self,
        client_id: str,
        as_of: dt.date | None,
        audience: Audience,
        before: dt.datetime | None,
    ) -> StateInputs:
        client = self.client(client_id)
        stored = self._stored_inputs(client, audience, before)
        day = as_of or self.today(client)
        slot = f"{audience}|{day.isoformat()}|{before.isoformat() if before else '-'}"
        version = _version(
            self._config_json(client),
            stored.generations,
            stored.last,
            stored.signed,
            stored.notes,
            day,
            stored.readings,
        )
        health = self._health(client, stored.records)  # on the clock: every time
        return StateInputs(
            client,
            health,
            stored.last,
            stored.signed,
            stored.notes,
            stored.readings,
            day,
            slot,
            version,
        )

    def _stored_inputs(
        self, client: Client, audience: Audience, before: dt.datetime | None
    ) -> StoredInputs:
        """The store's part of a state's inputs: read again only when the client's change
        counter moved since the last read (`store.changes`), else one small read."""
        key = (client.id, audience, before)
        with self.store.reading():  # one snapshot; the counter first (store/changes.py)
            stamp = self.store.changes.stamp(client.id)
            held = self._stored.get(key)
            if held is not None and held.stamp == stamp and stamp:
                return held
            stored = StoredInputs(
                stamp,
                self._records(client),
                self.store.outbox.last_posted(client.id, audience, before=before),
                frozenset(s.phase for s in self.store.signoffs.load(client.id)),
                self.store.notes.load(client.id),
                self.store.tickets.generations(client.id),
                self.store.readings.load(client.id) if client.metric_source else {},
            )
        if len(self._stored) >= STORED_KEPT:
            self._stored.clear()  # digests of many past periods: start over
        self._stored[key] = stored
        return stored

    def _kept(self, inputs: StateInputs) -> Kept | None:
        key = (inputs.client.id, inputs.slot)
        with self._lock:
            held = self._states.get(key)
        if held is not None and held[0] == inputs.version:
            return held[1]
        kept = self.store.states.get(inputs.client.id, inputs.slot, inputs.version)
        if kept is not None:
            with self._lock:
                self._states[key] = (inputs.version, kept)
        return kept

    def _compute(self, inputs: StateInputs) -> Kept:
        client, signed = inputs.client, inputs.signed
        tickets = self.tickets(client)
        state = compute_state(
            client,
            tickets,
            as_of=inputs.day,
            reported=inputs.last.snapshot if inputs.last else None,
            signed_off=set(signed) if client.approvers or signed else None,
            notes=inputs.notes,
            metrics=inputs.readings if client.metric_source else None,
        )
        named = _named_keys(state)
        kept = Kept(state, {t.key: t.url for t in tickets if t.url and t.key in named})
        try:
            self.store.states.put(client.id, inputs.slot, inputs.version, kept, self.clock())
        except StoreError:  # a read-only store still answers; the next writer keeps it
            logger.debug("could not keep the state of %s", client.id, exc_info=True)
        with self._lock:
            self._states[(client.id, inputs.slot)] = (inputs.version, kept)
        return kept

    def _fresh(self, inputs: StateInputs, kept: Kept, now: dt.datetime | None = None) -> Computed:
        stale = _stale_warnings(inputs.health, now or self.clock())
        state = replace(kept.state, sources=inputs.health, warnings=(*kept.state.warnings, *stale))
        return Computed(state, inputs.last, kept.links)

    def view(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> ClientView:
        state = self.state(client_id, as_of=as_of, audience=audience)
        return audience_view(state, audience, self.opaque(client_id))

    def _config_json(self, client: Client) -> str:
        """A client's configuration as JSON, dumped once per configuration object."""
        held = self._configs.get(client.id)
        if held is None or held[0] is not client:
            held = (client, client.model_dump_json())
            self._configs[client.id] = held
        return held[1]

    def opaque(self, client_id: str) -> OpaqueId:
        """Stable, unguessable client-facing ids of a client's dependency tickets."""
        if client_id not in self._opaque:
            self._opaque[client_id] = opaque_ids(self.store.meta.installation_secret(), client_id)
        return self._opaque[client_id]

    def note(self, client_id: str, milestone_id: str, text: str | None, *, by: str) -> bool:
        """Set (or with None, clear) a milestone's client-facing note: its cause and recovery,
        shown beside it to both audiences and as the reason of its date changes. False when
        clearing a note that was not set."""
        client = self.client(client_id)
        known = [m.id for m in client.milestones]
        if milestone_id not in known:
            raise ConfigError(
                [
                    (
                        f"client {client.id!r} has no milestone {milestone_id!r} "
                        f"(milestones: {', '.join(known) or 'none'})"
                    )
                ]
            )
        if text is None:
            return self.store.notes.clear(client.id, milestone_id)
        cleaned = " ".join(text.split())
        if not cleaned:
            raise ConfigError(["a note needs some text (to remove one, clear it)"])
        self.store.notes.set(client.id, milestone_id, cleaned, by, self.clock())
        return True

    def sign_off(self, client_id: str, phase: str, user_id: str) -> tuple[SignOff, bool]:
        """Record a phase sign-off; (the standing sign-off, whether this call made it)."""
        before = {s.phase for s in self.store.signoffs.load(client_id)}
        record = self.store.signoffs.sign_off(client_id, phase, user_id, self.clock())
        return record, phase not in before


def _version(
    client_json: str,
    generations: Mapping[str, int],
    last: PostedDigest | None,
    signed: frozenset[str],
    notes: Mapping[str, str],
    day: dt.date,
    readings: Mapping[str, MetricReading],
) -> str:
    """What names a computed state: everything it is made of (the generation of each
    source's stored tickets stands for them), and syncbot's own version."""
    parts = [
        __version__,
        client_json,
        day.isoformat(),
        sorted(generations.items()),
        [last.key.text, last.sent_at.isoformat(), repr(sorted(last.snapshot.items()))]
        if last
        else None,
        sorted(signed),
        sorted(notes.items()),
        sorted((k, repr(v)) for k, v in readings.items()),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _named_keys(state: ClientState) -> set[str]:
    """The ticket keys a state names (what internal answers may link)."""
    keys: set[str] = {d.key for d in state.dependencies}
    for m in state.milestones:
        keys.update(m.late_tickets, m.blocked_by, m.forecast_set_by_tickets)
        keys.update(m.forecast_set_by_dependencies, m.forecast_set_by_blockers)
    for w in state.warnings:
        keys.update(w.tickets)
    return keys


def _stale_warnings(health: Sequence[SourceHealth], now: dt.datetime) -> list[Warning]:
    out = []
    for h in health:
        if h.stale:
            text = messages.stale_source(h.label, h.last_success, now)
            internal = f"{text} ({h.source}: {h.last_error})" if h.last_error else text
            out.append(Warning(WarningKind.STALE_SOURCE, None, internal, client_message=text))
    return out
