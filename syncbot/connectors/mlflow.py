"""MLflow: a milestone metric's best value among an experiment's finished runs, read from a
tracking server's REST API 2.0 over httpx (`MlflowSource`, kind `mlflow`) or from recorded
answers (`MlflowExport`, kind `mlflow-export`).

`reading` is the one rule both use, over runs translated by `to_run`: only FINISHED runs
count (running, failed and killed ones never do); a run's value is the latest it logged for
the metric (what MLflow's own search orders by); NaN and infinite values are no value; among
equal best values the earliest run wins. `met_at` is when the first finished run that reaches
the target ended, for "the day the target was first met".

Live, per metric: `GET experiments/get-by-name` (once per experiment and read), then
`POST runs/search` over that experiment with `filter = attributes.status = 'FINISHED'`,
`order_by` the metric best first (DESC when higher is better), `page_size` runs a page,
following `next_page_token`. MLflow puts runs without the metric (or with NaN) last, so the
runs that reach the target come first: paging stops at the first finished run whose value
misses the target, or at the first run without a value after valued ones. A target not met
costs one search request; a met one a page per `page_size` runs that meet it. Only the
metric's own comparison (`Metric.meets`) decides where reading stops, so the runs read always
hold the best run and every run that meets the target.

Failures: 5xx, 429 (Retry-After honoured), timeouts and connection errors are retried with
the tracker connectors' bounded backoff (`retry.Attempts`), then fail the read with a
one-line `SourceError`; 401/403 are `SourceAuthError`; an experiment MLflow does not know, or
a search it refuses (400), is `SourceQueryError`: the configuration needs fixing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from syncbot.config import Metric
from syncbot.connectors import deadline
from syncbot.connectors.base import MetricResult, MlflowAccess
from syncbot.connectors.parsing import UnreadableJson, loads, obj
from syncbot.connectors.retry import (
    Attempts,
    Clock,
    Retryable,
    RetryPolicy,
    Sleep,
    retry_after,
    utc_now,
)
from syncbot.domain import MetricReading
from syncbot.errors import DataError, SourceAuthError, SourceError, SourceQueryError

logger = logging.getLogger(__name__)
API = "api/2.0/mlflow/"
GET_BY_NAME = API + "experiments/get-by-name"
SEARCH = API + "runs/search"
FINISHED = "FINISHED"
FINISHED_FILTER = "attributes.status = 'FINISHED'"
PAGE_SIZE = 100  # runs per search page; MLflow allows up to 50,000 (runs carry their data)


# -- translation (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One MLflow run, with only what the metric rule reads."""

    run_id: str
    experiment_id: str
    status: str
    started: dt.datetime | None
    ended: dt.datetime | None
    metrics: dict[str, float]  # latest value per metric key, finite values only

    @property
    def at(self) -> dt.datetime | None:
        """When its result existed: its end, else its start."""
        return self.ended or self.started


def to_run(raw: Any) -> Run | None:
    """Translate one run of a runs/search answer; None when it has no usable id."""
    info = obj(obj(raw).get("info"))
    run_id = info.get("run_id") or info.get("run_uuid")
    if not isinstance(run_id, str) or not run_id:
        return None
    metrics: dict[str, float] = {}
    for entry in obj(obj(raw).get("data")).get("metrics") or ():
        key, value = obj(entry).get("key"), _number(obj(entry).get("value"))
        if isinstance(key, str) and value is not None:
            metrics[key] = value
    experiment = info.get("experiment_id")
    return Run(
        run_id=run_id,
        experiment_id=str(experiment) if isinstance(experiment, str | int) else "",
        status=str(info.get("status") or ""),
        started=_millis(info.get("start_time")),
        ended=_millis(info.get("end_time")),
        metrics=metrics,
    )


def value_of(run: Run, metric: Metric) -> float | None:
    """The value of `metric` that counts for `run`: None unless the run finished."""
    return run.metrics.get(metric.name) if run.status == FINISHED else None


def reading(metric: Metric, runs: Iterable[Run]) -> MetricReading:
    """The best value of `metric` among the finished `runs`, and when its target was first
    met (see the module docstring)."""
    best: Run | None = None
    best_value = 0.0
    met_at: dt.datetime | None = None
    for run in runs:
        value = value_of(run, metric)
        if value is None:
            continue
        if (
            best is None
            or metric.better(value, best_value)
            or (value == best_value and _earlier(run, best))
        ):
            best, best_value = run, value
        if metric.meets(value) and run.at is not None and (met_at is None or run.at < met_at):
            met_at = run.at
    return MetricReading(
        experiment=metric.experiment,
        name=metric.name,
        target=metric.target,
        higher_is_better=metric.higher_is_better,
        value=best_value if best is not None else None,
        run_id=best.run_id if best else None,
        run_at=best.at if best else None,
        met_at=met_at,
    )


def experiment_id(answer: Any) -> str | None:
    """The experiment id of a get-by-name answer (`{"experiment": {...}}`)."""
    found = obj(obj(answer).get("experiment")).get("experiment_id")
    return str(found) if isinstance(found, str | int) and str(found) else None


def search_page(answer: Any) -> tuple[list[Any], str | None]:
    """The raw runs of a runs/search answer and its `next_page_token` (MLflow answers `{}`
    when no run matches)."""
    runs = obj(answer).get("runs")
    token = obj(answer).get("next_page_token")
    return (runs if isinstance(runs, list) else []), (
        token if isinstance(token, str) and token else None
    )


def order_by(metric: Metric) -> str:
    """`order_by` putting the best value first; the name quoted for MLflow's search grammar."""
    quote = '"' if "`" in metric.name else "`"
    return f"metrics.{quote}{metric.name}{quote} {'DESC' if metric.higher_is_better else 'ASC'}"


def read_on(runs: Sequence[Run], metric: Metric) -> bool:
    """Whether a search page in best-first order may still be followed by runs that meet
    the target: no finished run on it missed the target, and no run lacks a value after a
    valued one (MLflow sorts runs without the metric last)."""
    valued = False
    for run in runs:
        value = value_of(run, metric)
        if value is None:
            if valued and run.status == FINISHED:
                return False
            continue
        valued = True
        if not metric.meets(value):
            return False
    return True


def _number(value: Any) -> float | None:
    """A finite metric value; MLflow writes NaN and infinities as the strings "NaN", ..."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _millis(value: Any) -> dt.datetime | None:
    """MLflow's milliseconds since the epoch (a number, or a string in JSON from protobuf)."""
    try:
        millis = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not 0 < millis < 253402300799000:  # before 10000-01-01
        return None
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)


def _earlier(run: Run, than: Run) -> bool:
    mine, theirs = run.at, than.at
    if mine is None or theirs is None:
        return False
    return mine < theirs


def _wanted_experiments(wanted: Sequence[tuple[str, Metric]]) -> Iterator[tuple[str, str]]:
    """(experiment name, the first milestone id asking for it), each experiment once."""
    seen: set[str] = set()
    for milestone, metric in wanted:
        if metric.experiment not in seen:
            seen.add(metric.experiment)
            yield metric.experiment, milestone


# -- the live source ------------------------------------------------------------------------


class MlflowSource:
    """Live MLflow (REST API 2.0). `transport` is httpx's seam for tests; by default every
    request also gets a total deadline (`deadline.HttpxTransport`)."""

    def __init__(
        self,
        name: str,
        *,
        access: MlflowAccess,
        page_size: int | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.access = access
        self.page_size = page_size or PAGE_SIZE
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.transport = transport
        self.shown = _shown(access.url)

    def read(self, wanted: Sequence[tuple[str, Metric]]) -> MetricResult:
        attempts = Attempts(self.name, "MLflow", self.retry, self.sleep)
        readings: dict[str, MetricReading] = {}
        pages = 0
        with self._client() as http:
            ids = {
                name: self._experiment(http, attempts, name, f"milestone {milestone}")
                for name, milestone in _wanted_experiments(wanted)
            }
            for milestone, metric in wanted:
                runs, read = self._best_runs(http, attempts, ids[metric.experiment], metric)
                readings[milestone] = reading(metric, runs)
                pages += read
        return MetricResult(readings, requests=attempts.requests, pages=pages)

    def experiment_id(self, name: str, *, wanted_by: str = "") -> str:
        """The id of experiment `name` (`check --live`); SourceQueryError when MLflow has
        none of that name."""
        attempts = Attempts(self.name, "MLflow", self.retry, self.sleep)
        with self._client() as http:
            return self._experiment(http, attempts, name, wanted_by)

    def _client(self) -> httpx.Client:
        headers = {"Accept": "application/json"}
        if self.access.token is not None:
            headers["Authorization"] = f"Bearer {self.access.token.get_secret_value()}"
        base = self.access.url if self.access.url.endswith("/") else self.access.url + "/"
        return httpx.Client(
            base_url=base,
            headers=headers,
            timeout=self.timeout,
            transport=self.transport or deadline.HttpxTransport(self.timeout),
        )

    def _experiment(self, http: httpx.Client, attempts: Attempts, name: str, who: str) -> str:
        answer = attempts(
            f"experiments/get-by-name {name!r}",
            partial(self._call, http, "GET", GET_BY_NAME, params={"experiment_name": name}),
        )
        if answer is None:
            whose = f" ({who}'s metric.experiment)" if who else ""
            raise SourceQueryError(
                self.name,
                f"MLflow at {self.shown} has no experiment named {name!r}{whose}: check the "
                "name in the config (experiment names are case-sensitive)",
            )
        found = experiment_id(answer)
        if obj(answer.get("experiment")).get("lifecycle_stage") == "deleted":
            raise SourceQueryError(
                self.name,
                f"MLflow experiment {name!r} is deleted: restore it, or name another in the config",
            )
        if found is None:
            raise SourceError(
                self.name,
                f"MLflow answered experiments/get-by-name {name!r} without an experiment id; "
                "is SYNCBOT_MLFLOW_URL an MLflow tracking server?",
            )
        return found

    def _best_runs(
        self, http: httpx.Client, attempts: Attempts, experiment: str, metric: Metric
    ) -> tuple[list[Run], int]:
        """The finished runs in best-first order, as far as they may meet the target."""
        body: dict[str, Any] = {
            "experiment_ids": [experiment],
            "filter": FINISHED_FILTER,
            "order_by": [order_by(metric)],
            "max_results": self.page_size,
        }
        out: list[Run] = []
        tokens: set[str] = set()
        pages = 0
        while True:
            pages += 1
            answer = attempts(
                f"runs/search page {pages} for {metric.name!r}",
                partial(self._call, http, "POST", SEARCH, json=dict(body)),
            )
            raw, token = search_page(answer)
            runs = [run for item in raw if (run := to_run(item)) is not None]
            out += runs
            if token is None or not read_on(runs, metric):
                return out, pages
            if token in tokens:
                raise SourceError(
                    self.name,
                    "MLflow gave the same next_page_token twice in runs/search; stopped paging",
                )
            tokens.add(token)
            body["page_token"] = token

    def _call(self, http: httpx.Client, method: str, path: str, **options: Any) -> Any:
        """One request; the answer's JSON, None for a get-by-name 404; failures sorted into
        Retryable and Source*Error."""
        try:
            response = http.request(method, path, **options)
        except deadline.HttpxDeadlineExceeded as exc:
            raise Retryable(f"no complete answer within {self.timeout:g} s") from exc
        except httpx.TimeoutException as exc:
            raise Retryable(f"no answer within {self.timeout:g} s") from exc
        except httpx.TransportError as exc:
            raise Retryable(
                f"cannot connect to {self.shown} ({type(exc).__name__}; check SYNCBOT_MLFLOW_URL)"
            ) from exc
        status = response.status_code
        if status == 200:
            return self._json(response)
        said = self._said(response)
        wait = retry_after(response.headers.get("Retry-After"), now=self.clock())
        if status == 429:
            raise Retryable(said, rate_limited=True, wait=wait)
        if status >= 500:
            raise Retryable(said, wait=wait)
        if status in (401, 403):
            raise SourceAuthError(
                self.name,
                f"{said}: check SYNCBOT_MLFLOW_TOKEN (or the user:password in SYNCBOT_MLFLOW_URL)",
            )
        if status == 404 and path == GET_BY_NAME and "RESOURCE_DOES_NOT_EXIST" in said:
            return None
        if status == 404:
            raise SourceError(
                self.name, f"{said}: is SYNCBOT_MLFLOW_URL ({self.shown}) an MLflow server?"
            )
        raise SourceQueryError(self.name, said)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = loads(response.content)
        except UnreadableJson as exc:  # asking again gets the same answer
            raise SourceError(self.name, f"MLflow's answer cannot be read ({exc})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Retryable("the answer was not JSON") from exc
        if not isinstance(data, dict):
            raise SourceError(
                self.name,
                f"MLflow answered {type(data).__name__} JSON, not an object; is "
                "SYNCBOT_MLFLOW_URL an MLflow tracking server?",
            )
        return data

    def _said(self, response: httpx.Response) -> str:
        """ "MLflow answered 404 RESOURCE_DOES_NOT_EXIST (message)", token never repeated."""
        try:
            body = obj(loads(response.content))
        except (ValueError, UnicodeDecodeError):
            body = {}
        code = body.get("error_code")
        message = str(body.get("message") or "").strip() or "no message"
        if self.access.token is not None:
            message = message.replace(self.access.token.get_secret_value(), "***")
        message = " ".join(message.split())[:300]
        code_text = f" {code}" if isinstance(code, str) else ""
        return f"MLflow answered {response.status_code}{code_text} ({message})"


def _shown(url: str) -> str:
    """The URL as it may be shown: without user:password."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "SYNCBOT_MLFLOW_URL"
    return str(parsed.copy_with(userinfo=b"")) if parsed.userinfo else url


# -- the recorded source (mlflow-export) ----------------------------------------------------


class MlflowExport:
    """Recorded MLflow answers, one per file as the REST API returns it: `experiments/
    get-by-name` (`{"experiment": {...}}`) or `runs/search` (`{"runs": [...],
    "next_page_token": ...}`, `{}` when none matched). Runs belong to experiments by their
    `info.experiment_id`, so the files may come in any order; every recorded run counts (the
    same `reading` as live, so running and failed runs still never do)."""

    def __init__(self, name: str, files: Sequence[Path]) -> None:
        self.name = name
        self.files = list(files)

    def read(self, wanted: Sequence[tuple[str, Metric]]) -> MetricResult:
        if not self.files:
            raise DataError(f"{self.name}: no export files found")
        experiments: dict[str, str] = {}  # name -> id
        runs: dict[str, dict[str, Run]] = {}  # experiment id -> run id -> run
        notes: list[str] = []
        pages, skipped = 0, 0
        last_token: tuple[str, str] | None = None  # (file, token) of the last runs/search file
        for path in self.files:
            data = self._load(path)
            if "experiment" in data:
                found = experiment_id(data)
                name = obj(data.get("experiment")).get("name")
                if found is None or not isinstance(name, str):
                    raise DataError(
                        f"{path}: not an experiments/get-by-name answer (its experiment needs "
                        "experiment_id and name)"
                    )
                experiments[name] = found
                continue
            if data and "runs" not in data and "next_page_token" not in data:
                raise DataError(
                    f"{path}: not an MLflow experiments/get-by-name or runs/search answer "
                    '(expected "experiment" or "runs")'
                )
            pages += 1
            raw, token = search_page(data)
            last_token = (path.name, token) if token else None
            for item in raw:
                run = to_run(item)
                if run is None:
                    skipped += 1
                    continue
                runs.setdefault(run.experiment_id, {})[run.run_id] = run
        if skipped:
            notes.append(f"skipped {skipped} recorded run{'s' * (skipped != 1)} without a run_id")
        if last_token is not None:
            notes.append(
                f"{last_token[0]}, the last runs/search file, says more runs follow "
                "(next_page_token): judged on the runs recorded"
            )
        readings = {}
        for milestone, metric in wanted:
            found = experiments.get(metric.experiment)
            if found is None:
                raise DataError(
                    f"{self.name}: no recorded experiments/get-by-name answer for experiment "
                    f"{metric.experiment!r} (milestone {milestone}'s metric.experiment)"
                )
            readings[milestone] = reading(metric, runs.get(found, {}).values())
        return MetricResult(readings, requests=0, pages=pages, notes=notes)

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            data = loads(path.read_bytes())
        except OSError as exc:
            raise DataError(f"{path}: cannot read export file: {exc.strerror}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from exc
        except UnreadableJson as exc:
            raise DataError(f"{path}: not usable JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise DataError(f"{path}: not an MLflow answer (expected a JSON object)")
        return data
