"""`syncbot share` and the client page `syncbot run` serves (SPEC §9), over real HTTP."""

from __future__ import annotations

import datetime as dt
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from pydantic import SecretStr
from scenario import leaky_scenario
from support.cli import ok, run

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.run import Runtime
from syncbot.settings import Settings
from syncbot.store import Store
from syncbot.web import HttpServer

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
HEADERS = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


@dataclass
class Served:
    url: str
    config: Path
    db: str
    clock: list[dt.datetime]

    def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return (
                    answer.status,
                    {k.lower(): v for k, v in answer.headers.items()},
                    answer.read(),
                )
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()

    def share(self, client: str, *more: str) -> str:
        with time_machine.travel(self.clock[0], tick=False):
            return ok(["share", "--config", str(self.config), "--client", client, *more])


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    config = leaky_scenario(tmp_path / "data")
    db = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", db)
    monkeypatch.setenv("SYNCBOT_PUBLIC_URL", "https://status.example.com/")
    with time_machine.travel(NOW, tick=False):
        for day in ("2026-03-03", "2026-03-10"):
            ok(["sync", "--config", str(config), "--as-of", day])
    clock = [NOW]
    settings = Settings(_env_file=None, database_url=db, slack_signing_secret=SecretStr("s"))  # type: ignore[call-arg]
    store = Store(db)
    app = Syncbot(load_config(config), settings, store, lambda: clock[0])
    server = HttpServer(Runtime(app, settings).router, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.port}", config, db, clock)
    finally:
        server.close()
        thread.join(timeout=10)
        store.close()


def path_of(url: str) -> str:
    assert url.startswith("https://status.example.com/c/")
    return url.removeprefix("https://status.example.com")


def test_a_link_opens_its_clients_page_and_chart_with_the_headers(served: Served) -> None:
    path = path_of(served.share("mrk").strip())
    status, headers, body = served.get(path)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    for name, value in HEADERS.items():
        assert headers[name] == value
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "img-src 'self'" in csp
    page = body.decode()
    assert "Marker Corp" in page and "Globex" not in page and "Phase A milestone" not in page
    assert "<script" not in page.lower()
    # Every status is a word beside its colour, and the parts SPEC §9 lists are there.
    for words in ("Milestone one", "Milestone two", "▲ At risk", "What we need from you"):
        assert words in page
    assert "Date changes" in page and "Current phase" in page and "Next milestone" in page
    assert 'src="' in page and "/trend.png" in page
    status, headers, png = served.get(path + "/trend.png")
    assert status == 200 and headers["content-type"] == "image/png" and png[:4] == b"\x89PNG"
    assert headers["cache-control"] == "no-store"
    status, _, _ = served.get(path, method="HEAD")
    assert status == 200
    status, _, _ = served.get(path, method="POST")
    assert status == 405


def test_unknown_expired_and_revoked_links_get_the_same_404(served: Served) -> None:
    revoked = path_of(served.share("mrk").strip())
    served.share("mrk", "--revoke", revoked.rsplit("/", 1)[1])
    expiring = path_of(served.share("mrk", "--expires-in", "90m").strip())
    assert served.get(expiring)[0] == 200
    served.clock[0] = NOW + dt.timedelta(minutes=91)
    answers = [
        served.get(p)
        for p in (
            revoked,
            expiring,
            expiring + "/trend.png",
            "/c/" + "A" * 32,
            "/c/short",
            "/c/" + "A" * 32 + "/other",
        )
    ]
    assert {status for status, _, _ in answers} == {404}
    assert len({body for _, _, body in answers}) == 1
    for _, headers, _ in answers:
        for name, value in HEADERS.items():
            assert headers[name] == value


def test_a_client_page_never_shows_another_client(served: Served) -> None:
    mrk = path_of(served.share("mrk").strip())
    glx = path_of(served.share("glx").strip())
    mrk_page = served.get(mrk)[2].decode()
    glx_page = served.get(glx)[2].decode()
    assert "Phase A milestone" in glx_page and "Milestone one" not in glx_page
    assert "Marker Corp" not in glx_page and "Globex" not in mrk_page
    assert served.get(mrk + "/trend.png")[2] != served.get(glx + "/trend.png")[2]


def test_share_lists_and_revokes(served: Served) -> None:
    first = served.share("mrk").strip()
    served.get(path_of(first))  # used once
    second = served.share("mrk", "--expires-in", "2d").strip()
    listed = served.share("mrk", "--list").strip().splitlines()
    assert len(listed) == 2 and all("active" in line for line in listed)
    assert "last used 2026-03-10 15:00 UTC" in "\n".join(listed)
    assert any("expires 2026-03-12 15:00 UTC" in line for line in listed)
    # Revoke by URL; the token is never listed.
    assert served.share("mrk", "--revoke", second) == "revoked 1 link of mrk\n"
    assert first.rsplit("/", 1)[1] not in served.share("mrk", "--list")
    assert "revoked 2026-03-10" in served.share("mrk", "--list")
    glx = served.share("glx").strip()
    refused = run(["share", "--config", str(served.config), "--client", "mrk", "--revoke", glx])
    assert refused.code == 2 and "no such link for client mrk" in refused.err
    assert served.get(path_of(glx))[0] == 200
    assert served.share("mrk", "--all") == "revoked 1 link of mrk\n"
    assert served.get(path_of(first))[0] == 404


@pytest.mark.parametrize("value", ["30", "0d", "-1h", "3w", "xd", "4000d"])
def test_share_refuses_a_bad_lifetime(served: Served, value: str) -> None:
    result = run(
        ["share", "--config", str(served.config), "--client", "mrk", "--expires-in", value]
    )
    assert result.code == 2 and "--expires-in" in result.err


def test_a_link_without_a_public_url_is_a_path_and_says_so(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNCBOT_PUBLIC_URL")
    result = run(["share", "--config", str(served.config), "--client", "mrk"])
    assert result.code == 0 and result.out.startswith("/c/")
    assert "SYNCBOT_PUBLIC_URL is not set" in result.err
    assert served.get(result.out.strip())[0] == 200
