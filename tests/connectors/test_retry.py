"""`retry_after`: both forms of the Retry-After header, read against an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest

from syncbot.connectors.retry import retry_after

NOW = dt.datetime(2026, 10, 21, 7, 27, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 60.0),  # RFC 9110's IMF-fixdate
        ("Wednesday, 21-Oct-26 07:29:30 GMT", 150.0),  # obsolete RFC 850 form
        ("Wed Oct 21 07:27:30 2026", 30.0),  # obsolete asctime form (GMT)
        ("Wed, 21 Oct 2026 09:28:00 +0200", 60.0),  # a zone other than GMT still counts
        ("Wed, 21 Oct 2026 07:28:00 -0000", 60.0),  # "no zone": GMT, as HTTP dates are
        ("Tue, 20 Oct 2026 07:28:00 GMT", 0.0),  # in the past: no wait
    ],
)
def test_seconds_and_http_dates_are_read(value: str, seconds: float) -> None:
    assert retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value",
    [None, "", "soon", "-5", "nan", "inf", "1e9", "Wed, 32 Oct 2026 07:28:00 GMT", "9" * 400],
)
def test_a_missing_or_bad_value_means_use_your_own_backoff(value: str | None) -> None:
    assert retry_after(value, now=NOW) is None


def test_the_clock_decides_not_the_machine() -> None:
    value = "Wed, 21 Oct 2026 07:28:00 GMT"
    assert retry_after(value, now=NOW - dt.timedelta(hours=1)) == 3660.0
    assert retry_after(value, now=NOW + dt.timedelta(hours=1)) == 0.0
