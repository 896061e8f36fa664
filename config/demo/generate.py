"""Regenerate the recorded tracker responses behind `syncbot demo` (standard library only).

The demo agency is Northwind AI, with two clients on the five-phase AI engagement arc
(Discovery and Planning, Data Preparation, Model Development, Deployment, Validation and
Handoff), seen as of 2026-03-10:

* Acme Logistics (Jira Cloud, project ACME, America/Chicago, baseline 2026-01-09): a freight
  claims-triage model. Discovery done on time, data access and the claims pipeline done late,
  the feature store at risk (a late ticket and two tickets added after the baseline without a
  change order), the baseline model delayed, staging deployment blocked by an overdue client
  dependency (ACME-42, "IT grants API access to the claims warehouse", waiting since
  2026-03-02), production rollout and handoff not started.
* Globex Health (Linear, team GLX, Europe/London, baseline 2026-01-13): a referral-triage
  assistant. Discovery and the de-identified dataset done, the DPIA done late, gold-standard
  labelling delayed, model v1 at risk, the Azure deployment waiting on Globex IT (GLX-30, not
  overdue yet), one ticket added without a change order, one canceled ticket.

Both run experiments (tickets labelled `experiment`, outside the milestones): Acme one past
its timebox, one running, one finished this week; Globex one running. Their models are
tracked in MLflow, and milestone 3.1 of each client carries a metric: Acme's precision@1 is
0.81 of its 0.85 target (a run still running and a failed one score higher, and never
count), Globex's missed-urgent rate (lower is better) first met its 0.5% target on 03-06.

Writes, into OUT_DIR (default: next to this file):
  acme-jira/page-N.json      one page each of Jira Cloud `GET /rest/api/3/search/jql`
                             (fields = syncbot.connectors.jira.FIELDS, expand=changelog)
  globex-linear/page-N.json  one page each of Linear's GraphQL `issues` query
                             (the selection of syncbot.connectors.linear.ISSUE_FIELDS then)
  acme-mlflow/, globex-mlflow/
                             MLflow REST API 2.0 answers: experiment.json from
                             `GET experiments/get-by-name`, runs-page-N.json from
                             `POST runs/search` over the experiment (no filter: every run,
                             newest first, as MLflow orders by default; RUN_PAGE_SIZE a page)

ACME-51 is deliberately malformed (its `fields.status` is missing, as when a field
configuration hides it): the export source must skip and count it.

The story is in the tables ACME and GLOBEX, one row per ticket, and their descriptions in
ACME_TEXT and GLOBEX_TEXT. Dates there are in 2026, written MM-DD; times are the client's
local time, MM-DD HH:MM. A ticket's status is where its moves (start, review, wait, done or
canceled) leave it. The JSON shapes come from tests/servers/wire.py, shared with the fake
Jira and Linear servers. Output is deterministic: ids, tokens and milliseconds derive from
hashes of fixed strings.

Run from the repository: python config/demo/generate.py [OUT_DIR] [--as-of YYYY-MM-DD]

`--as-of` writes the trackers as they stood at the end of that day instead (tickets created
later left out, later moves and due date changes undone): `config/demo/replay.py` syncs a
week of these at a time to give the demo a trend history (`make readme-chart`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import sys
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))  # for the builders shared with the fakes
from servers import wire  # noqa: E402 (importable only once the line above has run)

YEAR = "2026"
NS = uuid.UUID("6f1c2a52-3b9e-4d1a-9a57-0c9e8d1b2f10")
JIRA = wire.JiraSite("https://northwind-ai.atlassian.net")
ACME_TZ = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
JIRA_PAGE_SIZE = 20
LINEAR_PAGE_SIZE = 15
RUN_PAGE_SIZE = 3
JSON = dict[str, Any]


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _uuid(text: str) -> str:
    return str(uuid.uuid5(NS, text))


def _day(mm_dd: str | None) -> str | None:
    return f"{YEAR}-{mm_dd}" if mm_dd else None


def _moment(when: str, tz: ZoneInfo, salt: str) -> dt.datetime:
    """'02-03 10:15' local -> that minute in 2026, seconds and milliseconds from a hash."""
    full = f"{YEAR}-{when}"
    ms = _digest(salt + full) % 60000
    local = dt.datetime.strptime(full, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    return local.replace(second=ms // 1000, microsecond=ms % 1000 * 1000)


def _split(values: str) -> list[str]:
    return [value for value in values.split(",") if value]


def prose(text: str) -> str:
    """A table's wrapped text as markdown: paragraphs unwrapped, list items and fences kept."""
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()) if text else ():
        lines = [line.strip() for line in block.splitlines()]
        blocks.append(("\n" if lines[0].startswith(("- ", "```")) else " ").join(lines))
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------------------------
# Acme Logistics (Jira Cloud)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JiraRow:
    """One ACME ticket. `comps`, `labels` and `fix` (versions) are comma-separated; `moved`
    is a due date change (when, who, old, new); `labelled` (when, who) added the `labels`."""

    n: int
    who: str  # assignee
    created: str
    summary: str
    kind: str = "Story"
    epic: int | None = None
    comps: str = ""
    labels: str = ""
    fix: str = ""
    due: str | None = None
    priority: str = "Medium"
    start: str | None = None
    review: str | None = None
    wait: str | None = None
    done: str | None = None
    resolution: str = "Done"
    moved: tuple[str, str, str, str] | None = None
    labelled: tuple[str, str] | None = None
    updated: str | None = None  # when later than its last change (comments, edits)
    mover: str | None = None  # who moves it, when not the assignee
    blocks: tuple[int, ...] = ()
    duplicates: int | None = None
    malformed: bool = False


J = JiraRow
# Tables are laid out by hand, one ticket per row: the formatter would give each value a line.
# fmt: off
JIRA_PEOPLE = {
    "priya": ("Priya Shah", "priya.shah@northwind-ai.example"),
    "marcus": ("Marcus Chen", "marcus.chen@northwind-ai.example"),
    "elena": ("Elena Petrova", "elena.petrova@northwind-ai.example"),
    "tomas": ("Tomás Rivera", "tomas.rivera@northwind-ai.example"),
    "aisha": ("Aisha Bello", "aisha.bello@northwind-ai.example"),
    "dana": ("Dana Whitfield", "dana.whitfield@acme-logistics.example"),
}
JIRA_STATUSES = {  # name -> (status id, category key)
    "To Do": ("10000", "new"), "In Progress": ("3", "indeterminate"),
    "In Review": ("10001", "indeterminate"), "Waiting for Client": ("10002", "indeterminate"),
    "Done": ("10003", "done"),
}
JIRA_RESOLUTIONS = {
    "Done": ("10000", "Work has been completed on this issue."),
    "Won't Do": ("10001", "This issue won't be actioned."),
    "Duplicate": ("10002", "The problem is a duplicate of an existing issue."),
}
JIRA_PRIORITIES = {"High": "2", "Medium": "3", "Low": "4"}
JIRA_TYPES = {  # name -> (id, hierarchy level, avatar id)
    "Epic": ("10000", 1, 10300), "Story": ("10001", 0, 10301), "Task": ("10002", 0, 10302),
}
JIRA_VERSIONS = {  # name -> fix version (id, release date, description)
    name: JIRA.fix_version(version_id, name, description, release)
    for name, version_id, release, description in (
        ("0.9 Staging", "10101", "2026-04-24", "Model service running in Acme staging"),
        ("1.0 GA", "10102", "2026-05-22", "Production rollout to the Dallas claims desk"),
    )
}
JIRA_COMPONENTS = {
    name: JIRA.component(component_id, name)
    for name, component_id in (
        ("Discovery", "10200"), ("Data Platform", "10201"), ("ML", "10202"), ("MLOps", "10203"),
        ("Triage UI", "10204"),
    )
}
JIRA_LINK_TYPES = {
    "Blocks": JIRA.link_type("10000", "Blocks", "is blocked by", "blocks"),
    "Duplicate": JIRA.link_type("10002", "Duplicate", "is duplicated by", "duplicates"),
}
PROJECT = JIRA.project("10010", "ACME", "Acme Logistics - Claims Triage AI", avatar_id=10411)

ACME = [
    # Epics, opened at kickoff (Mon 2026-01-05).
    J(1, "priya", "01-05 09:10", "Discovery & success metrics", "Epic",
      start="01-05 10:00", done="01-15 17:05"),
    J(2, "priya", "01-05 09:12", "Data access & target architecture", "Epic",
      start="01-12 09:00", done="01-28 17:20"),
    J(3, "marcus", "01-05 09:14", "Claims data pipeline", "Epic",
      start="01-26 09:00", done="02-20 16:40"),
    J(4, "marcus", "01-05 09:15", "Feature store", "Epic", start="02-16 09:00"),
    J(5, "elena", "01-05 09:17", "Baseline claims-triage model", "Epic", start="02-23 09:30"),
    J(6, "aisha", "01-05 09:18", "Evaluation harness & model card", "Epic", start="03-02 10:00"),
    J(7, "tomas", "01-05 09:20", "Staging deployment", "Epic", start="02-23 09:00"),
    J(8, "tomas", "01-05 09:21", "Production rollout", "Epic"),
    J(9, "priya", "01-05 09:23", "Pilot validation & handoff", "Epic"),
    # 1.1 Discovery complete (planned 2026-01-16): done 01-15, on time.
    J(10, "priya", "01-05 10:30", "Run discovery workshops with Acme claims operations",
      epic=1, comps="Discovery", due="01-09", start="01-06 09:00", done="01-09 16:10"),
    J(11, "aisha", "01-05 10:41", "Map current claims triage process and volumes",
      epic=1, comps="Discovery", due="01-14", start="01-07 13:00", done="01-13 15:25"),
    J(12, "priya", "01-05 10:55", "Define success metrics and acceptance thresholds",
      epic=1, comps="Discovery", due="01-16", priority="High",
      start="01-12 09:00", review="01-14 16:00", done="01-15 16:50"),
    J(13, "priya", "01-06 08:45", "Set up RAID log and weekly steering cadence",
      epic=1, comps="Discovery", due="01-16", start="01-06 09:00", done="01-12 11:30"),
    # 1.2 Data access plan and architecture (planned 2026-01-23): done 01-28, late.
    J(14, "marcus", "01-06 09:30",
      "Inventory source systems: claims warehouse, TMS, carrier invoices",
      epic=2, comps="Data Platform", due="01-16", start="01-12 09:15", done="01-16 14:05"),
    J(15, "tomas", "01-06 09:42", "Target architecture: lakehouse, feature store, model serving",
      epic=2, comps="MLOps", due="01-21",
      start="01-13 10:00", review="01-20 15:00", done="01-22 11:40"),
    J(16, "dana", "01-06 10:05", "Acme grants read access to the claims warehouse replica",
      epic=2, comps="Data Platform", labels="client-dependency", due="01-23", priority="High",
      mover="marcus", start="01-14 09:00", wait="01-16 10:30", done="01-28 15:10"),
    J(17, "tomas", "01-07 14:20", "Security questionnaire for Acme InfoSec",
      epic=2, comps="MLOps", due="01-23", start="01-19 09:00", done="01-27 16:45"),
    # 2.1 Claims data pipeline (planned 2026-02-13): done 02-20, a week late.
    J(18, "marcus", "01-07 09:10", "Airbyte connector for the claims warehouse",
      epic=3, comps="Data Platform", due="02-03",
      start="01-28 16:00", review="02-03 11:00", done="02-04 10:20"),
    J(19, "marcus", "01-07 09:18", "Ingest carrier invoice CSV drops from SFTP",
      epic=3, comps="Data Platform", due="02-10", start="02-04 11:00", done="02-11 15:30"),
    J(20, "aisha", "01-07 09:25", "Data profiling report: claims 2021-2025",
      epic=3, comps="Data Platform", due="02-06", start="01-29 09:00", done="02-06 14:55"),
    J(21, "aisha", "01-07 09:31", "Data quality checks with Great Expectations",
      epic=3, comps="Data Platform", due="02-12", moved=("02-11 10:00", "aisha", "02-10", "02-12"),
      start="02-09 09:00", review="02-16 17:00", done="02-18 12:10"),
    J(22, "marcus", "01-07 09:40", "Deduplicate claims across TMS and warehouse",
      epic=3, comps="Data Platform", due="02-13", priority="High",
      moved=("02-12 17:30", "marcus", "02-11", "02-13"), start="02-10 09:00", done="02-20 16:05"),
    J(23, "marcus", "01-07 09:52", "Ingest legacy AS/400 claims archive (pre-2019)",
      epic=3, comps="Data Platform", done="02-09 11:15", resolution="Won't Do"),
    J(24, "tomas", "01-08 10:10", "Hash claimant identifiers in the bronze layer",
      epic=3, comps="Data Platform", due="02-11", start="02-05 09:00", done="02-10 13:35"),
    # 2.2 Feature store populated (planned 2026-03-06): at risk.
    J(25, "marcus", "01-08 10:25", "Feast feature repo and claim-level entity schema",
      epic=4, comps="Data Platform", due="02-20", start="02-16 09:00", done="02-20 15:45"),
    J(26, "marcus", "01-08 10:31", "Claim history features: prior claims per shipper and lane",
      epic=4, comps="Data Platform", due="02-27", start="02-20 16:00", done="02-27 14:20"),
    J(27, "elena", "01-08 10:38", "Text features from adjuster notes (TF-IDF baseline)",
      epic=4, comps="ML", due="03-04",
      start="02-23 09:00", review="03-03 16:30", done="03-04 11:05"),
    J(28, "aisha", "01-08 10:44", "Point-in-time correctness tests for training sets",
      epic=4, comps="Data Platform", due="03-06", priority="High",
      moved=("03-03 09:40", "aisha", "03-04", "03-06"), start="02-27 09:00", updated="03-09 17:10"),
    J(29, "marcus", "01-08 10:50", "Feature freshness SLA and nightly backfill job",
      epic=4, comps="Data Platform", due="03-11", start="03-02 09:00", review="03-09 15:20"),
    # Added after the 2026-01-09 baseline without a change order: scope creep.
    J(30, "marcus", "02-10 14:05", "Carrier-level aggregates requested at steering committee",
      epic=4, comps="Data Platform", due="03-12", start="03-04 10:00", updated="03-09 16:35"),
    J(31, "marcus", "02-12 11:20", "Backfill 2019-2020 claims into the feature store",
      epic=4, comps="Data Platform", due="03-12"),
    # 3.1 Baseline model trained (planned 2026-03-20): delayed.
    J(32, "elena", "01-08 11:02", "Time-based train/validation/test split",
      epic=5, comps="ML", due="03-04", start="02-26 09:00", done="03-03 15:50"),
    J(33, "elena", "01-08 11:09", "LightGBM baseline for claim routing",
      epic=5, comps="ML", due="03-20", priority="High", start="03-04 09:00", updated="03-09 18:02"),
    J(34, "elena", "01-08 11:15", "Hyperparameter sweep on SageMaker",
      epic=5, comps="ML,MLOps", due="03-27", moved=("03-05 10:15", "elena", "03-13", "03-27")),
    J(35, "elena", "01-08 11:21", "Calibrate probabilities and pick the operating threshold",
      epic=5, comps="ML", due="03-31", moved=("03-05 10:17", "elena", "03-18", "03-31")),
    J(36, "elena", "02-17 09:35", "Spanish-language adjuster notes in text features (CO-002)",
      epic=5, comps="ML", due="03-27", labels="change-order", labelled=("02-18 11:00", "priya")),
    J(37, "aisha", "01-08 11:30", "Error analysis session with claims SMEs",
      epic=5, comps="ML", due="03-31"),
    # 3.2 Evaluation harness and model card (label eval-harness, planned 2026-04-10).
    J(38, "aisha", "01-08 13:10", "Offline eval harness: precision@k and cost-weighted recall",
      epic=6, comps="ML", labels="eval-harness", due="03-27",
      start="03-02 10:00", updated="03-09 11:48"),
    J(39, "aisha", "01-08 13:16", "Golden test set from 500 adjuster-reviewed claims",
      epic=6, comps="ML", labels="eval-harness", due="04-03"),
    J(40, "elena", "01-08 13:22", "Fairness and segment analysis by carrier and region",
      epic=6, comps="ML", labels="eval-harness", due="04-08"),
    J(41, "priya", "01-08 13:29", "Model card for Acme review",
      epic=6, comps="ML", labels="eval-harness,docs", due="04-10"),
    # 4.1 Model deployed to staging (planned 2026-04-24): blocked by ACME-42.
    J(42, "dana", "01-08 14:02", "IT grants API access to the claims warehouse",
      epic=7, comps="MLOps", labels="client-dependency", due="03-06", priority="High",
      moved=("02-26 13:20", "tomas", "02-27", "03-06"), blocks=(44, 45),
      mover="tomas", start="02-23 09:05", wait="03-02 09:30", updated="03-09 15:45"),
    J(43, "tomas", "01-08 14:10", "Containerise the model service (FastAPI + ONNX Runtime)",
      epic=7, comps="MLOps", fix="0.9 Staging", due="04-10",
      start="03-02 11:00", updated="03-06 17:25"),
    J(44, "tomas", "01-08 14:16", "Terraform the staging environment in Acme's AWS account",
      epic=7, comps="MLOps", fix="0.9 Staging", due="04-17"),
    J(45, "tomas", "01-08 14:21", "Staging integration test against the live claims feed",
      epic=7, comps="MLOps", fix="0.9 Staging", due="04-24"),
    J(46, "tomas", "01-08 14:27", "CI/CD with model-registry promotion gates",
      epic=7, comps="MLOps", fix="0.9 Staging", due="04-17"),
    # 4.2 Production rollout (fix version "1.0 GA", planned 2026-05-22): planned, no dates.
    J(47, "tomas", "01-08 15:02", "SSO for the triage UI via Acme Okta (SAML)",
      epic=8, comps="Triage UI", fix="1.0 GA"),
    J(48, "elena", "01-08 15:08", "Drift monitoring: feature and prediction drift alerts",
      epic=8, comps="MLOps", fix="1.0 GA"),
    J(49, "tomas", "01-08 15:13", "Production runbook and on-call rota",
      epic=8, comps="MLOps", fix="1.0 GA"),
    J(50, "priya", "01-08 15:20", "Shadow-mode rollout plan for the Dallas claims desk",
      epic=8, fix="1.0 GA"),
    # Malformed on purpose (no fields.status); skipped and counted by the export source.
    J(51, "elena", "01-08 15:31", "Feature importance report for claims SMEs",
      epic=5, comps="ML", malformed=True),
    # Housekeeping outside any milestone.
    J(52, "marcus", "02-05 10:20", "Pipeline failure alerts to #nw-acme-eng", "Task",
      comps="Data Platform", start="02-05 10:30", done="02-06 09:40"),
    J(53, "aisha", "01-20 11:05", "Dedupe claims between systems",
      epic=3, comps="Data Platform", duplicates=22, done="01-20 11:30", resolution="Duplicate"),
    # Experiments, timeboxed from creation to their due date (outside the milestones).
    J(54, "elena", "02-16 10:05", "Carrier-specific thresholds cut mis-routes for the top carriers",
      comps="ML", labels="experiment", due="02-27", start="02-16 10:30", updated="03-06 16:10"),
    J(55, "aisha", "02-23 09:20", "Label smoothing keeps precision@1 stable across retrains",
      comps="ML", labels="experiment", due="03-06", start="02-23 09:45", done="03-05 15:30"),
    J(56, "elena", "03-02 09:40", "Multilingual embeddings beat TF-IDF on adjuster notes",
      comps="ML", labels="experiment", due="03-13", start="03-02 10:00", updated="03-09 18:20"),
]
ACME_TEXT = {  # descriptions, in markdown (rendered as Jira's ADF)
    1: """Workshops, current-state process map, agreed success metrics for the claims-triage
        pilot.""",
    10: """Three 90-minute sessions (Dallas claims desk, carrier relations, finance). Notes in
        Confluence NW-ACME/Discovery.

        - Capture triage decision points and hand-offs
        - Collect 20 example claims per outcome class
        - Agree who signs off the success metrics""",
    11: """BPMN of intake -> adjuster queue -> settlement. Volumes from the 2025 claims export:
        ~11.8k claims/month, 23% manual re-routing.""",
    12: """Primary: routing precision@top-1 >= 0.85 on the held-out quarter. Secondary: median
        time-to-first-touch down 30%. Guardrail: no carrier segment below 0.75 recall.""",
    14: """Claims warehouse is SQL Server 2019 behind the Acme VPN; TMS is MercuryGate (REST,
        rate-limited to 5 rps); carrier invoices land as CSV on SFTP nightly.""",
    15: """S3 + Delta on Acme's AWS account (us-east-2), Feast on Redis for online features,
        SageMaker endpoints behind API Gateway. ADR-003 records why not Databricks
        (procurement lead time).""",
    16: """Read-only login on the reporting replica (CLMDW-RPT02) for the Northwind service
        account. Acme ticket RITM0039912.""",
    17: "SIG Lite, 212 questions. Data residency answers copied from ADR-003.",
    18: """Incremental sync on `LastModifiedUtc`; CDC not available on the replica.

        ```sql
        SELECT * FROM dbo.Claims WHERE LastModifiedUtc > ?
        ```""",
    19: """Nightly 02:00 CT drop, 14 carriers, 3 different column layouts. Schema registry
        entry per carrier.""",
    20: """ydata-profiling over 684k claims. Findings: 9.4% null `damage_code`, adjuster notes
        free text in EN/ES, duplicate claim ids across TMS merges.""",
    21: """Expectation suites for bronze -> silver: claim amount > 0, valid carrier SCAC,
        settlement date after incident date.""",
    22: """Fuzzy match on (BOL, shipper, incident date +/- 2 days). 3.1% of claims were
        double-counted in the 2024 data; the profiling estimate was 0.8%.""",
    23: """Dropped at steering 2026-02-09: pre-2019 claims use the retired damage taxonomy and
        would not be used for training.""",
    24: """HMAC-SHA256 with a key in AWS Secrets Manager; salt rotation documented in the
        runbook.""",
    28: """Leakage found: `settled_amount` joined without an event-time filter. Rewriting the
        join with `get_historical_features` and adding a test per feature view.""",
    29: "Airflow DAG `feast_materialize_claims`, alert if online store lags > 6 h.",
    30: """Rolling 90-day claim rate and average settlement per carrier (SCAC). Requested by
        Acme's VP Claims at the 2026-02-09 steering; not in the SOW.""",
    31: """Follows from dropping the AS/400 archive (ACME-23): Acme asked for the 2019-2020
        warehouse data instead.""",
    32: "Train 2021-01..2024-12, validate 2025-01..06, test 2025-07..12.",
    33: """Multiclass (7 queues). First run on the leaky features scored 0.93 precision@1,
        which is why ACME-28 exists.""",
    35: """Isotonic calibration per queue; threshold chosen with the cost matrix from
        ACME-12.""",
    36: """Change order CO-002 signed 2026-02-18: 31% of notes are Spanish. Multilingual
        sentence embeddings instead of EN-only TF-IDF.""",
    38: """pytest-style suites over frozen parquet snapshots; results pushed to MLflow. Runs in
        CI on every model PR.""",
    42: """The staging model service needs a service account with read access to the claims
        API (`/claims/v2/open`) and write access to the triage suggestion table. Requested
        via Acme ServiceNow RITM0041877 on 2026-02-23.

        2026-03-02: Acme IT says the request is waiting for CAB approval; chased Dana on
        2026-03-05 and 2026-03-09.""",
    44: """VPC peering to the claims API subnet; needs the service account from ACME-42 before
        `terraform apply` can pass the connectivity check.""",
    48: "Evidently reports nightly; PSI > 0.2 on any top-20 feature pages the on-call.",
    54: """Per-carrier operating thresholds instead of one global threshold. Blocked on the
        carrier SCAC clean-up for a week; results still pending.

        Success: mis-routes for the top 5 carriers down 15% at equal precision@1""",
    55: """Label smoothing 0.1 on the routing head; five retrains on shuffled folds.

        Success: precision@1 varies by less than 0.01 across five retrains""",
    56: """Multilingual sentence embeddings (EN/ES) for adjuster notes, logged to MLflow
        experiment acme-claims-triage.

        Success: precision@1 at least 0.03 above the TF-IDF baseline on validation""",
}
# fmt: on


class AcmeTicket:
    """A row and what its moves imply: changelog, status and the dates Jira derives."""

    def __init__(self, row: JiraRow) -> None:
        self.row, self.key, self.id = row, f"ACME-{row.n}", str(10100 + row.n)
        self.changes: list[tuple[str, str, list[JSON]]] = []  # (when, author, items)
        self.status = "To Do"
        moves = zip(
            (row.start, row.review, row.wait, row.done),
            ("In Progress", "In Review", "Waiting for Client", "Done"),
            strict=True,
        )
        for when, status in moves:
            if when:
                ids = JIRA_STATUSES[self.status][0], JIRA_STATUSES[status][0]
                items = [wire.jira_change("status", self.status, status, ids=ids)]
                if status == "Done":
                    resolved = None, JIRA_RESOLUTIONS[row.resolution][0]
                    items.append(wire.jira_change("resolution", None, row.resolution, ids=resolved))
                self.changes.append((when, row.mover or row.who, items))
                self.status = status
        if row.moved:
            when, who, old, new = row.moved
            old, new = f"{YEAR}-{old}", f"{YEAR}-{new}"
            item = wire.jira_change(
                "duedate", f"{old} 00:00:00.0", f"{new} 00:00:00.0", ids=(old, new)
            )
            self.changes.append((when, who, [item]))
        if row.labelled:
            item = wire.jira_change("labels", "", " ".join(_split(row.labels)), ids=(None, None))
            self.changes.append((*row.labelled, [item]))
        self.changes.sort(key=lambda change: change[0])
        status_moves = [when for when, _, items in self.changes if items[0]["field"] == "status"]
        self.category_changed = status_moves[-1] if status_moves else row.created
        self.updated = row.updated or max([row.created] + [when for when, _, _ in self.changes])

    def time(self, when: str, what: str) -> str:
        return wire.jira_timestamp(_moment(when, ACME_TZ, self.key + what))

    def ref(self) -> JSON:
        type_id, level, avatar_id = JIRA_TYPES[self.row.kind]
        fields = {
            "summary": self.row.summary,
            "status": jira_status(self.status),
            "priority": JIRA.priority(JIRA_PRIORITIES[self.row.priority], self.row.priority),
            "issuetype": JIRA.issuetype(type_id, self.row.kind, avatar_id, level),
        }
        return JIRA.issue_ref(self.id, self.key, fields)


def jira_status(name: str) -> JSON:
    status_id, category = JIRA_STATUSES[name]
    return JIRA.status(status_id, name, category)


def jira_resolution(name: str) -> JSON:
    resolution_id, description = JIRA_RESOLUTIONS[name]
    return JIRA.resolution(resolution_id, name, description)


def jira_user(who: str) -> JSON:
    name, email = JIRA_PEOPLE[who]
    initials = "".join(part[0] for part in name.split()).upper()
    avatar = (
        "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/"
        f"initials/{initials}-{_digest(who) % 6}.png"
    )
    return JIRA.user(f"712020:{_uuid('jira-user:' + who)}", name, email, avatar, "America/Chicago")


def acme_pages(rows: list[JiraRow] | None = None) -> list[JSON]:
    tickets = {row.n: AcmeTicket(row) for row in (ACME if rows is None else rows)}
    links: dict[int, list[JSON]] = {n: [] for n in tickets}
    link_ids = (str(n) for n in range(10230, 10300))
    for source in tickets.values():  # source <outward> target
        pairs = [("Blocks", n) for n in source.row.blocks]
        pairs += [("Duplicate", source.row.duplicates)] if source.row.duplicates else []
        for kind, target in pairs:
            link_id, link_type = next(link_ids), JIRA_LINK_TYPES[kind]
            outward = JIRA.issue_link(link_id, link_type, outward=tickets[target].ref())
            links[source.row.n].append(outward)
            links[target].append(JIRA.issue_link(link_id, link_type, inward=source.ref()))
    moments = {(t.key, when) for t in tickets.values() for when, _, _ in t.changes}
    ordered = sorted(moments, key=lambda moment: (moment[1], moment[0]))  # by time, then key
    history_ids = {moment: str(20500 + index) for index, moment in enumerate(ordered)}
    issues = [acme_issue(t, tickets, links[t.row.n], history_ids) for t in tickets.values()]
    pages = [issues[i : i + JIRA_PAGE_SIZE] for i in range(0, len(issues), JIRA_PAGE_SIZE)]
    return [
        wire.jira_cloud_page(page, _page_token(number) if number < len(pages) else None)
        for number, page in enumerate(pages, start=1)
    ]


def acme_issue(
    ticket: AcmeTicket,
    tickets: dict[int, AcmeTicket],
    links: list[JSON],
    history_ids: dict[tuple[str, str], str],
) -> JSON:
    row = ticket.row
    fields = wire.jira_fields(
        summary=row.summary,
        status=jira_status(ticket.status),
        resolution=jira_resolution(row.resolution) if row.done else None,
        resolutiondate=ticket.time(row.done, "resolved") if row.done else None,
        statuscategorychangedate=ticket.time(ticket.category_changed, "scc"),
        created=ticket.time(row.created, "created"),
        updated=ticket.time(ticket.updated, "updated"),
        duedate=_day(row.due),
        labels=_split(row.labels),
        fix_versions=[JIRA_VERSIONS[name] for name in _split(row.fix)],
        components=[JIRA_COMPONENTS[name] for name in _split(row.comps)],
        issuelinks=links,
        assignee=jira_user(row.who),
        description=wire.adf(prose(ACME_TEXT.get(row.n, ""))),
        project=PROJECT,
        parent=tickets[row.epic].ref() if row.epic else None,
    )
    if row.malformed:
        del fields["status"]  # hidden by a field configuration: unusable for the rules
    histories = [
        wire.jira_history(
            history_ids[(ticket.key, when)], jira_user(who), ticket.time(when, "history"), items
        )
        for when, who, items in ticket.changes
    ]
    return JIRA.issue(ticket.id, ticket.key, fields, histories)


def _page_token(page: int) -> str:
    """Cloud's opaque `nextPageToken` after `page` pages."""
    seed = f"project = ACME ORDER BY key ASC|{page * JIRA_PAGE_SIZE}".encode()
    return base64.urlsafe_b64encode(hashlib.sha256(seed).digest() + seed).decode().rstrip("=")


# --------------------------------------------------------------------------------------------
# Globex Health (Linear)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinearRow:
    """One GLX issue. `ms` is its milestone, `labels` are comma-separated, `notes` are the
    times of changes that are not state changes (labels, milestone, due date)."""

    n: int
    who: str  # assignee
    created: str
    title: str
    ms: str | None = None
    labels: str = ""
    due: str | None = None
    est: float | None = None
    backlog: bool = False  # starts in Backlog, not Todo
    start: str | None = None
    review: str | None = None
    wait: str | None = None
    done: str | None = None
    canceled: str | None = None
    notes: tuple[str, ...] = ()
    updated: str | None = None  # when later than its last change
    blocks: tuple[int, ...] = ()
    related: tuple[int, ...] = ()


L = LinearRow
# Tables are laid out by hand, one ticket per row: the formatter would give each value a line.
# fmt: off
LINEAR_PEOPLE = {
    "sofia": ("Sofia Lindqvist", "sofia.lindqvist@northwind-ai.example"),
    "wei": ("Wei Zhang", "wei.zhang@northwind-ai.example"),
    "hannah": ("Hannah Brooks", "hannah.brooks@northwind-ai.example"),
    "liam": ("Liam O'Connor", "liam.oconnor@northwind-ai.example"),
    "james": ("Dr James Okafor", "james.okafor@northwind-ai.example"),
    "rhys": ("Rhys Morgan", "rhys.morgan@globex-health.example"),
}
LINEAR_STATES = {  # name -> type
    "Backlog": "backlog", "Todo": "unstarted", "In Progress": "started", "In Review": "started",
    "Waiting on Globex": "started", "Done": "completed", "Canceled": "canceled",
}
LINEAR_PROJECT = {"id": _uuid("linear-project:globex"), "name": "Globex Referral Triage Assistant"}
LINEAR_MILESTONES = {  # key -> (Linear milestone name, target date)
    "1.1": ("Discovery sign-off", "2026-01-16"),
    "1.2": ("DPIA & data sharing", "2026-01-30"),
    "2.1": ("De-identified dataset", "2026-02-20"),
    "2.2": ("Gold-standard labels", "2026-03-06"),
    "3.1": ("Triage model v1", "2026-03-27"),
    "3.2": ("Clinician review UI", "2026-04-10"),
    "4.1": ("Azure deployment (UK South)", "2026-04-24"),
    "4.2": ("Pilot go-live", "2026-05-15"),
    "5.1": ("Pilot evaluation & handoff", "2026-06-12"),
}

GLOBEX = [
    # 1.1 Discovery sign-off (planned 2026-01-16): done on the day.
    L(1, "sofia", "01-06 09:20", "Stakeholder interviews: referral coordinators at three sites",
      ms="1.1", labels="discovery", due="01-13", est=3, start="01-07 09:00", done="01-12 16:40"),
    L(2, "sofia", "01-06 09:26", "Current-state referral pathway map",
      ms="1.1", labels="discovery", due="01-15", est=2, start="01-12 09:00", done="01-14 15:10"),
    L(3, "james", "01-06 09:31", "Clinical success criteria and safety thresholds",
      ms="1.1", labels="discovery,clinical-safety", due="01-16", est=3,
      start="01-12 10:00", review="01-15 11:00", done="01-16 14:25"),
    L(4, "sofia", "01-06 09:40", "Project charter and RACI",
      ms="1.1", due="01-09", est=1, start="01-06 10:00", done="01-09 12:15"),
    # 1.2 DPIA & data sharing (planned 2026-01-30): done 02-04, late.
    L(5, "sofia", "01-07 10:05", "Draft DPIA with Globex Information Governance",
      ms="1.2", labels="governance", due="01-28", est=3,
      start="01-14 09:00", review="01-26 10:00", done="01-29 16:30"),
    L(6, "rhys", "01-07 10:12", "Globex signs the data-sharing agreement",
      ms="1.2", labels="client-dependency,governance", due="01-30",
      start="01-19 09:00", wait="01-23 11:45", done="02-04 10:05"),
    L(7, "james", "01-07 10:20", "Clinical safety case outline (DCB0129)",
      ms="1.2", labels="clinical-safety", due="01-30", est=2,
      start="01-20 09:30", done="01-30 15:55"),
    # 2.1 De-identified dataset (planned 2026-02-20): done 02-18, early.
    L(8, "wei", "01-07 11:00", "Extract 24 months of referral letters from the EPR export",
      ms="2.1", labels="data", due="02-06", est=3, start="02-04 10:30", done="02-06 17:05"),
    L(9, "wei", "01-07 11:06", "De-identification pipeline (Presidio + NHS number recogniser)",
      ms="2.1", labels="data", due="02-13", est=5,
      start="02-05 09:00", review="02-12 14:00", done="02-13 11:50"),
    L(10, "hannah", "01-07 11:12", "Re-identification risk test on a 200-letter sample",
      ms="2.1", labels="data,governance", due="02-18", est=2,
      start="02-16 09:00", done="02-17 16:20"),
    L(11, "wei", "01-07 11:19", "OCR ingestion of scanned PDF referrals",
      ms="2.1", labels="data", est=5, canceled="02-02 10:40"),
    L(12, "hannah", "01-07 11:25", "Datasheet and lineage for the de-identified dataset",
      ms="2.1", labels="data,docs", due="02-20", est=2, start="02-17 09:00", done="02-18 14:35"),
    # 2.2 Gold-standard labels (planned 2026-03-06): delayed.
    L(13, "james", "01-08 09:10", "Labelling guidelines v2 with triage categories",
      ms="2.2", labels="clinical-safety", due="02-13", est=2,
      start="02-09 09:00", done="02-13 12:00"),
    L(14, "wei", "01-08 09:15", "Label Studio project in the Globex tenant",
      ms="2.2", labels="infra", due="02-16", est=2, start="02-12 10:00", done="02-16 13:30"),
    L(15, "james", "01-08 09:21", "Round 1 labelling: 1,000 referrals",
      ms="2.2", due="02-27", est=5, start="02-16 09:00", done="02-27 17:45"),
    L(16, "hannah", "01-08 09:26", "Inter-annotator agreement analysis",
      ms="2.2", due="03-06", est=2, start="03-02 09:00", notes=("03-05 10:30",),
      updated="03-09 16:05"),
    L(17, "james", "01-08 09:32", "Round 2 labelling: 1,000 referrals",
      ms="2.2", due="03-20", est=5, start="03-02 09:30", notes=("03-04 11:10",),
      updated="03-09 12:20"),
    L(18, "james", "01-08 09:38", "Adjudicate label disagreements with the clinical lead",
      ms="2.2", due="03-20", est=3, notes=("03-04 11:12",)),
    # 3.1 Triage model v1 (planned 2026-03-27): at risk.
    L(19, "wei", "01-09 10:00", "Prompted LLM baseline on Azure OpenAI",
      ms="3.1", labels="ml", due="03-20", est=5, start="03-02 10:00", updated="03-09 17:30",
      related=(20,)),
    L(20, "wei", "01-09 10:06", "Fine-tuned ClinicalBERT classifier",
      ms="3.1", labels="ml", due="03-27", est=8, start="03-05 09:00", updated="03-09 18:10"),
    L(21, "hannah", "01-09 10:12", "Eval harness: urgent sensitivity and per-specialty metrics",
      ms="3.1", labels="ml", due="03-13", est=3, start="02-26 09:00", review="03-09 14:40"),
    L(22, "james", "01-09 10:18", "Safety threshold analysis: missed-urgent rate",
      ms="3.1", labels="clinical-safety", due="04-01", est=3, notes=("03-04 11:20",)),
    L(23, "hannah", "01-09 10:24", "Hallucination checks for the summary field",
      ms="3.1", labels="ml,clinical-safety", due="03-27", est=3),
    # 3.2 Clinician review UI (planned 2026-04-10): on track, one scope addition.
    L(24, "sofia", "01-09 11:00", "Review UI wireframes validated with four coordinators",
      ms="3.2", labels="frontend", due="02-24", est=2, start="02-18 09:00", done="02-24 15:30"),
    L(25, "liam", "01-09 11:05", "Review queue with accept / override actions",
      ms="3.2", labels="frontend", due="03-27", est=5, start="02-25 09:00", updated="03-09 17:55"),
    L(26, "liam", "01-09 11:11", "Audit log of clinician overrides",
      ms="3.2", labels="frontend,clinical-safety", due="04-03", est=3),
    L(27, "liam", "01-09 11:16", "Entra ID SSO for the review UI",
      ms="3.2", labels="frontend,infra", due="04-08", est=3),
    L(28, "wei", "02-18 15:20", "Welsh-language referral summaries",
      ms="3.2", labels="ml", due="04-10", est=5),
    L(29, "liam", "02-25 10:40", "Export review decisions as FHIR Task resources (CO-003)",
      ms="3.2", labels="change-order,frontend", due="04-10", est=3, notes=("02-26 09:15",)),
    # 4.1 Azure deployment (planned 2026-04-24): waiting on Globex IT (not overdue).
    L(30, "rhys", "01-09 11:30",
      "Globex IT provisions the Azure OpenAI private endpoint in UK South",
      ms="4.1", labels="client-dependency,infra", due="03-20", blocks=(19, 32, 33),
      start="02-24 10:00", wait="03-03 14:20", updated="03-09 10:15"),
    L(31, "liam", "01-09 11:36", "Bicep templates: AKS, Key Vault, private DNS",
      ms="4.1", labels="infra", due="04-03", est=5, start="03-03 09:00", updated="03-09 15:05"),
    L(32, "liam", "01-09 11:42", "Deploy the inference service to the Globex tenant",
      ms="4.1", labels="infra", due="04-17", est=3),
    L(33, "liam", "01-09 11:48", "Load and failover test in the Globex tenant",
      ms="4.1", labels="infra", due="04-24", est=3),
    L(34, "james", "01-09 11:55", "DCB0160 deployment safety case with the Globex CSO",
      ms="4.1", labels="clinical-safety", due="04-24", est=3),
    # Team housekeeping outside the milestones.
    L(35, "wei", "02-03 14:00", "Spike: Azure AI Search for guideline retrieval",
      labels="ml", est=2, backlog=True),
    L(36, "wei", "02-11 09:45", "Pin Presidio to 2.2.x after recogniser regression",
      labels="data", est=1, start="02-11 10:00", done="02-11 16:30"),
    L(37, "hannah", "02-20 10:10", "Weekly metrics notebook for steering packs",
      labels="docs", est=1, start="02-23 09:00", done="02-23 15:00"),
    L(38, "hannah", "03-06 16:20", "Investigate flaky eval job on the GPU runner",
      labels="ml,Bug", est=1, start="03-09 09:15"),
    # An experiment, timeboxed from creation to its due date (outside the milestones).
    L(39, "wei", "03-04 10:00", "Guideline retrieval lowers missed-urgent rate vs few-shot prompts",
      labels="ml,experiment", due="03-18", est=3, start="03-04 10:30", updated="03-09 16:40"),
]
GLOBEX_TEXT = {  # descriptions, in markdown (as Linear stores them)
    1: """Leeds General, St Mary's and the Harrogate community hub. Recordings in the Globex
        SharePoint, not in our drive (DSA pending).""",
    3: """Agreed with Globex CCIO:

        - urgent-referral sensitivity >= 0.98
        - missed-urgent rate <= 0.5%
        - coordinator time per referral -40%""",
    6: "Redlines on clause 7 (sub-processors) went back and forth twice with Globex legal.",
    8: """41,212 letters (HL7 CDA + RTF). RTF converted with `pandoc`; 312 empty bodies
        dropped.""",
    9: """Custom recognisers: NHS number (mod-11 check), UK postcodes, GP practice codes.
        Surrogates keep date intervals.""",
    11: """Canceled: scanned referrals are 4% of volume and Globex is retiring fax intake in
        April.""",
    16: """Cohen's kappa 0.61 on round 1 (target 0.75). Disagreements cluster on 'routine vs
        soon' for musculoskeletal referrals.""",
    17: """Clinician availability halved in March (winter pressures); due date moved from
        2026-03-06 to 2026-03-20.""",
    19: """GPT-4o with the v2 guidelines as few-shot context. Running on synthetic letters
        until the private endpoint (GLX-30) exists: real letters may not leave the Globex
        tenant.""",
    22: "Needs round 2 labels (GLX-17). Due date moved from 2026-03-25.",
    28: """Asked for by the Cardiff pilot site on the 2026-02-17 call. Needs a decision on
        whether this is in scope.""",
    29: """Change order CO-003 signed 2026-02-26: decisions flow back to the EPR worklist via
        FHIR R4 `Task`.""",
    30: """Private endpoint + DNS zone in the Globex landing zone subscription; Northwind
        needs `Cognitive Services OpenAI User` on it. Globex change CHG-22817 is in their
        CAB queue.""",
    39: """Retrieve the three closest guideline snippets per letter instead of fixed few-shot
        examples; runs logged to MLflow experiment globex-referral-triage.

        **Success:** missed-urgent rate <= 0.5% on the gold-standard dev split""",
}
# fmt: on


def globex_pages(rows: list[LinearRow] | None = None) -> list[JSON]:
    table = GLOBEX if rows is None else rows
    nodes = [globex_issue(row, table) for row in table]
    pages = [nodes[i : i + LINEAR_PAGE_SIZE] for i in range(0, len(nodes), LINEAR_PAGE_SIZE)]
    return [
        wire.linear_issues_page(page, has_next_page=number < len(pages), end_cursor=page[-1]["id"])
        for number, page in enumerate(pages, start=1)
    ]


def glx_ref(n: int) -> JSON:
    return {"id": _uuid(f"linear-issue:GLX-{n}"), "identifier": f"GLX-{n}"}


def globex_issue(row: LinearRow, table: list[LinearRow]) -> JSON:
    key = f"GLX-{row.n}"

    def time(when: str, what: str) -> str:
        return wire.linear_timestamp(_moment(when, LONDON, key + what))

    changes: list[tuple[str, str | None, str | None]] = []  # (when, from state, to state)
    state = "Backlog" if row.backlog else "Todo"
    moves = zip(
        (row.start, row.review, row.wait, row.done, row.canceled),
        ("In Progress", "In Review", "Waiting on Globex", "Done", "Canceled"),
        strict=True,
    )
    for when, target in moves:
        if when:
            changes.append((when, state, target))
            state = target
    changes += [(when, None, None) for when in row.notes]
    changes.sort(key=lambda change: change[0])
    updated = row.updated or max([row.created] + [when for when, _, _ in changes])
    slug = re.sub(r"[^a-z0-9]+", "-", row.title.lower()).strip("-")[:60].rstrip("-")
    milestone = None
    if row.ms:
        name, target_date = LINEAR_MILESTONES[row.ms]
        milestone = {
            "id": _uuid(f"linear-milestone:{row.ms}"),
            "name": name,
            "targetDate": target_date,
        }
    name, email = LINEAR_PEOPLE[row.who]
    return wire.linear_issue(
        issue_id=glx_ref(row.n)["id"],
        identifier=key,
        title=row.title,
        description=prose(GLOBEX_TEXT.get(row.n, "")) or None,
        url=f"https://linear.app/northwind-ai/issue/{key}/{slug}",
        state={"name": state, "type": LINEAR_STATES[state]},
        due_date=_day(row.due),
        created_at=time(row.created, "created"),
        updated_at=time(updated, "updated"),
        completed_at=time(row.done, "done") if row.done else None,
        canceled_at=time(row.canceled, "canceled") if row.canceled else None,
        estimate=row.est,
        assignee={"name": name, "email": email},
        labels=[{"name": label} for label in _split(row.labels)],
        project_milestone=milestone,
        project=dict(LINEAR_PROJECT),
        relations=[wire.linear_relation("blocks", glx_ref(n)) for n in row.blocks]
        + [wire.linear_relation("related", glx_ref(n)) for n in row.related],
        inverse_relations=[
            wire.linear_relation("blocks", glx_ref(other.n), inverse=True)
            for other in table
            if row.n in other.blocks
        ]
        + [
            wire.linear_relation("related", glx_ref(other.n), inverse=True)
            for other in table
            if row.n in other.related
        ],
        history=[
            wire.linear_history(time(when, "history"), old, new)
            for when, old, new in reversed(changes)  # newest first
        ],
    )


# --------------------------------------------------------------------------------------------
# MLflow (both clients' model experiments)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """One MLflow run: its name, who ran it, when (local start, end; no end while running),
    its status, the metric values it logged (latest last) and its parameters."""

    name: str
    who: str
    start: str
    end: str | None
    status: str
    metrics: dict[str, list[float]]
    params: dict[str, str]


R = RunRow
# fmt: off
MLFLOW_EXPERIMENTS = {  # client -> (experiment id, name, creation, timezone, runs)
    "acme": ("412", "acme-claims-triage", "03-03 16:00", ACME_TZ, [
        R("lgbm-baseline", "elena", "03-04 09:10", "03-04 11:42", "FINISHED",
          {"val_precision_at_1": [0.74, 0.78], "val_loss": [0.61, 0.52]},
          {"model": "lightgbm", "features": "tfidf-v1", "num_leaves": "63"}),
        R("lgbm-tfidf-notes", "elena", "03-05 10:02", "03-05 12:31", "FINISHED",
          {"val_precision_at_1": [0.80], "val_loss": [0.49]},
          {"model": "lightgbm", "features": "tfidf-v2", "num_leaves": "63"}),
        R("lgbm-lr-0.3", "elena", "03-06 08:40", "03-06 08:58", "FAILED",
          {"val_precision_at_1": [0.86]},
          {"model": "lightgbm", "features": "tfidf-v2", "learning_rate": "0.3"}),
        R("lgbm-tfidf-tuned", "aisha", "03-06 13:15", "03-06 16:04", "FINISHED",
          {"val_precision_at_1": [0.79, 0.81], "val_loss": [0.47, 0.45]},
          {"model": "lightgbm", "features": "tfidf-v2", "num_leaves": "127"}),
        R("lgbm-multilingual-emb", "elena", "03-09 14:20", None, "RUNNING",
          {"val_precision_at_1": [0.83, 0.84]},
          {"model": "lightgbm", "features": "me5-small", "num_leaves": "127"}),
    ]),
    "globex": ("27", "globex-referral-triage", "03-02 09:00", LONDON, [
        R("gpt4o-fewshot-synthetic", "wei", "03-03 10:05", "03-03 12:40", "FINISHED",
          {"missed_urgent_rate": [0.012], "urgent_sensitivity": [0.95]},
          {"model": "gpt-4o", "prompt": "few-shot-v2", "data": "synthetic"}),
        R("gpt4o-guidelines-v2", "wei", "03-05 09:30", "03-05 11:55", "FINISHED",
          {"missed_urgent_rate": [0.007], "urgent_sensitivity": [0.97]},
          {"model": "gpt-4o", "prompt": "guidelines-v2", "data": "synthetic"}),
        R("clinicalbert-ft-1", "wei", "03-06 09:00", "03-06 15:20", "FINISHED",
          {"missed_urgent_rate": [0.006, 0.004], "urgent_sensitivity": [0.981]},
          {"model": "clinicalbert", "epochs": "4", "data": "gold-round-1"}),
        R("clinicalbert-ft-lr", "wei", "03-08 10:00", "03-08 10:12", "FAILED",
          {"missed_urgent_rate": [0.002]},
          {"model": "clinicalbert", "epochs": "4", "learning_rate": "5e-4"}),
        R("clinicalbert-ft-2", "hannah", "03-09 09:30", None, "RUNNING",
          {"missed_urgent_rate": [0.003]},
          {"model": "clinicalbert", "epochs": "6", "data": "gold-round-1"}),
    ]),
}
MLFLOW_USERS = {"elena": "elena.petrova", "aisha": "aisha.bello", "wei": "wei.zhang",
                "hannah": "hannah.brooks"}
# fmt: on


def _millis(moment: dt.datetime) -> int:
    """MLflow's milliseconds since the epoch."""
    return round(moment.timestamp() * 1000)


def mlflow_answers(client: str) -> dict[str, JSON]:
    """File name -> MLflow answer, for one client's experiment."""
    experiment_id, name, created, tz, runs = MLFLOW_EXPERIMENTS[client]
    created_ms = _millis(_moment(created, tz, name))
    location = f"s3://northwind-mlflow/{experiment_id}"
    answers: dict[str, JSON] = {
        "experiment.json": {
            "experiment": {
                "experiment_id": experiment_id,
                "name": name,
                "artifact_location": location,
                "lifecycle_stage": "active",
                "last_update_time": created_ms,
                "creation_time": created_ms,
                "workspace": "default",
            }
        }
    }
    built = [mlflow_run(experiment_id, location, row, tz) for row in runs]
    built.sort(key=lambda run: (-run["info"]["start_time"], run["info"]["run_id"]))
    pages = [built[i : i + RUN_PAGE_SIZE] for i in range(0, len(built), RUN_PAGE_SIZE)]
    for number, page in enumerate(pages, start=1):
        answer: JSON = {"runs": page}
        if number < len(pages):
            offset = json.dumps({"offset": number * RUN_PAGE_SIZE}).encode()
            answer["next_page_token"] = base64.b64encode(offset).decode()
        answers[f"runs-page-{number}.json"] = answer
    return answers


def mlflow_run(experiment_id: str, location: str, row: RunRow, tz: ZoneInfo) -> JSON:
    run_id = uuid.uuid5(NS, f"mlflow-run:{experiment_id}:{row.name}").hex
    start = _moment(row.start, tz, run_id + "start")
    end = _moment(row.end, tz, run_id + "end") if row.end else None
    info: JSON = {
        "run_uuid": run_id,
        "experiment_id": experiment_id,
        "run_name": row.name,
        "user_id": MLFLOW_USERS[row.who],
        "status": row.status,
        "start_time": _millis(start),
    }
    if end is not None:
        info["end_time"] = _millis(end)
    info.update(
        artifact_uri=f"{location}/{run_id}/artifacts", lifecycle_stage="active", run_id=run_id
    )
    last = end or start + dt.timedelta(minutes=40)
    metrics = []
    for key, values in row.metrics.items():
        step = len(values) - 1  # the latest value, as runs/search returns it
        logged = start + (last - start) * (step + 1) / len(values)
        metrics.append(
            {"key": key, "value": values[-1], "timestamp": _millis(logged), "step": step}
        )
    data: JSON = {
        "metrics": metrics,
        "params": [{"key": key, "value": value} for key, value in row.params.items()],
        "tags": [
            {"key": "mlflow.runName", "value": row.name},
            {"key": "mlflow.source.type", "value": "JOB"},
            {"key": "mlflow.user", "value": MLFLOW_USERS[row.who]},
        ],
    }
    return {"info": info, "data": data, "inputs": {}, "outputs": {}}


# --------------------------------------------------------------------------------------------


def write_answers(folder: Path, answers: dict[str, JSON]) -> None:
    """Replace folder/*.json with `answers` (2-space indent, UTF-8, final newline)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for name, answer in answers.items():
        text = json.dumps(answer, indent=2, ensure_ascii=False) + "\n"
        (folder / name).write_text(text, encoding="utf-8")


def write_pages(folder: Path, pages: list[JSON]) -> None:
    """Replace folder/page-N.json with `pages` (2-space indent, UTF-8, final newline)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.json"):
        old.unlink()
    for number, page in enumerate(pages, start=1):
        text = json.dumps(page, indent=2, ensure_ascii=False) + "\n"
        (folder / f"page-{number}.json").write_text(text, encoding="utf-8")


def acme_as_of(day: str) -> list[JiraRow]:
    """ACME as it stood at the end of `day` (MM-DD)."""
    end = f"{day} 23:59"

    def by(when: str | None) -> str | None:
        return when if when and when <= end else None

    kept = [row for row in ACME if row.created <= end]
    known = {row.n for row in kept}
    out = []
    for row in kept:
        moved = row.moved if row.moved and row.moved[0] <= end else None
        labelled = row.labelled if row.labelled and row.labelled[0] <= end else None
        out.append(
            replace(
                row,
                start=by(row.start),
                review=by(row.review),
                wait=by(row.wait),
                done=by(row.done),
                due=row.moved[2] if row.moved and not moved else row.due,
                moved=moved,
                labels=row.labels if labelled or not row.labelled else "",
                labelled=labelled,
                updated=by(row.updated),
                blocks=tuple(n for n in row.blocks if n in known),
                duplicates=row.duplicates if row.duplicates in known else None,
            )
        )
    return out


def globex_as_of(day: str) -> list[LinearRow]:
    """GLOBEX as it stood at the end of `day` (MM-DD)."""
    end = f"{day} 23:59"

    def by(when: str | None) -> str | None:
        return when if when and when <= end else None

    kept = [row for row in GLOBEX if row.created <= end]
    known = {row.n for row in kept}
    return [
        replace(
            row,
            start=by(row.start),
            review=by(row.review),
            wait=by(row.wait),
            done=by(row.done),
            canceled=by(row.canceled),
            notes=tuple(when for when in row.notes if when <= end),
            updated=by(row.updated),
            blocks=tuple(n for n in row.blocks if n in known),
            related=tuple(n for n in row.related if n in known),
        )
        for row in kept
    ]


def main(argv: list[str]) -> None:
    args = list(argv)
    day = None
    if "--as-of" in args:
        at = args.index("--as-of")
        day = dt.date.fromisoformat(args[at + 1]).strftime("%m-%d")
        del args[at : at + 2]
    out = Path(args[0]) if args else HERE
    write_pages(out / "acme-jira", acme_pages(acme_as_of(day) if day else None))
    write_pages(out / "globex-linear", globex_pages(globex_as_of(day) if day else None))
    write_answers(out / "acme-mlflow", mlflow_answers("acme"))
    write_answers(out / "globex-mlflow", mlflow_answers("globex"))


if __name__ == "__main__":
    main(sys.argv[1:])
