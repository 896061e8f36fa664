"""Browser tests: the end-of-run summary lists the screenshots they saved (test artifacts,
recorded by each test as a `screenshot` property)."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    paths = [
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == "screenshot" and getattr(report, "when", "call") == "call"
    ]
    if paths:
        terminalreporter.write_sep("-", "browser screenshots (test artifacts)")
        for path in paths:
            terminalreporter.write_line(path)
