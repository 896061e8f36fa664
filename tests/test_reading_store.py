"""The store of milestone metric readings and of the metric source's freshness, on SQLite
and PostgreSQL: the last known reading stays through failed reads."""

from __future__ import annotations

import datetime as dt

from syncbot.domain import MetricReading
from syncbot.store import Store

AT = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
SOURCE = "mlflow"


def reading(value: float | None, run: str | None = "r1") -> MetricReading:
    return MetricReading(
        experiment="claims-triage",
        name="val_f1",
        target=0.8,
        higher_is_better=True,
        value=value,
        run_id=run,
        run_at=dt.datetime(2026, 3, 5, 16, 30, 12, 345000, tzinfo=dt.UTC),
        met_at=dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC) if value and value >= 0.8 else None,
    )


def test_readings_round_trip_and_are_replaced_per_milestone(store: Store) -> None:
    assert store.readings.load("acme") == {}
    assert (
        store.readings.save("acme", SOURCE, {"3.1": reading(0.78), "4.1": reading(None, None)}, AT)
        == 2
    )
    assert store.readings.load("acme") == {"3.1": reading(0.78), "4.1": reading(None, None)}
    later = AT + dt.timedelta(minutes=10)
    assert store.readings.save("acme", SOURCE, {"3.1": reading(0.83, "r2")}, later) == 2
    assert store.readings.load("acme")["3.1"] == reading(0.83, "r2")
    assert store.readings.load("globex") == {}  # per client


def test_a_failed_read_keeps_the_readings_and_records_the_error(store: Store) -> None:
    store.readings.save("acme", SOURCE, {"3.1": reading(0.78)}, AT)
    failed = AT + dt.timedelta(minutes=10)
    store.readings.record_failure("acme", SOURCE, "MLflow: cannot connect", failed)
    assert store.readings.load("acme") == {"3.1": reading(0.78)}
    [record] = store.readings.records("acme").values()
    assert (record.source, record.last_success, record.last_attempt, record.last_error) == (
        SOURCE,
        AT,
        failed,
        "MLflow: cannot connect",
    )
    assert record.tickets == 1 and record.cursor is None
    store.readings.save("acme", SOURCE, {"3.1": reading(0.8)}, failed + dt.timedelta(minutes=5))
    [again] = store.readings.records("acme").values()
    assert again.last_error is None and again.last_success == failed + dt.timedelta(minutes=5)


def test_a_source_that_never_succeeded_has_a_record_without_success(store: Store) -> None:
    store.readings.record_failure("acme", SOURCE, "SYNCBOT_MLFLOW_URL not set", AT)
    [record] = store.readings.records("acme").values()
    assert record.last_success is None and record.last_attempt == AT
    assert store.readings.load("acme") == {}
