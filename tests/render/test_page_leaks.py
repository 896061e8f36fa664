"""Nothing internal reaches the client page, the trend JSON or the chart (SPEC §9): the
marker scenario (markers in every internal ticket field) synced on two report days.

The chart is a picture, so its text is checked where it is made: every string matplotlib
drew (`render.chart.drawn_texts`, read back from the drawn figure: titles, tick labels,
legend, key, line labels), and the PNG's bytes (metadata included). A guard test shows the
check is not vacuous: the milestone names are among the drawn strings.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from scenario import CLIENT_SAFE, MARK, leaky_scenario
from support.cli import ok

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.render import chart
from syncbot.settings import Settings
from syncbot.store import Store

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
KEYS = ("MRK-1", "MRK-2", "MRK-3", "MRK-9", "MRK-100", "MRK-101", "GLX-1", "GLX-2")


def clean(text: str) -> list[str]:
    """What of the internal detail is in `text` (nothing, for client output)."""
    return [found for found in (MARK, *KEYS) if found in text]


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Syncbot]:
    config = leaky_scenario(tmp_path / "data")
    db = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", db)
    with time_machine.travel(NOW, tick=False):
        for day in ("2026-03-03", "2026-03-10"):
            ok(["sync", "--config", str(config), "--as-of", day])
    store = Store(db)
    settings = Settings(_env_file=None, database_url=db)  # type: ignore[call-arg]
    yield Syncbot(load_config(config), settings, store, lambda: NOW)
    store.close()


@pytest.mark.parametrize("client", ["mrk", "glx"])
def test_the_client_page_carries_no_internal_detail(app: Syncbot, client: str) -> None:
    url, _ = app.share(client, dt.timedelta(days=1))
    page = app.page(url.rsplit("/", 1)[1])
    assert page is not None
    assert clean(page) == []
    # The dependency's summary and owner name are written for the client and do show.
    assert CLIENT_SAFE[0] in page and CLIENT_SAFE[1] in page


@pytest.mark.parametrize("client", ["mrk", "glx"])
def test_the_client_trend_and_its_chart_carry_no_internal_detail(app: Syncbot, client: str) -> None:
    from syncbot.render.trend import trend_document

    value, png = app.chart(client, "client")
    assert value.charted
    assert clean(json.dumps(trend_document(value))) == []
    drawn = chart.drawn_texts(value)
    assert clean("\n".join(drawn)) == []
    assert clean(chart.alt_text(value)) == []
    assert MARK.encode() not in png and not [k for k in KEYS if k.encode() in png]
    # Guard: the drawn strings really are the chart's (names, ids, the title).
    names = [m.name for m in value.milestones]
    assert names and all(any(name in text for text in drawn) for name in names)
    assert any(value.client_name in text for text in drawn)


def test_the_slack_file_part_carries_no_internal_detail(app: Syncbot) -> None:
    value, png = app.chart("mrk", "client")
    part = chart.file_part(value, png, filename="f.png", title="t")
    assert clean(json.dumps({k: v for k, v in part["file"].items() if k != "png"})) == []
