"""PDF reports: the platform's report build against WeasyPrint rendering the same HTML from a file.

    .venv/bin/python bench/pdf.py --territories 500 --days 365 --runs 3 [--synthesis-runs 1] [--reuse]

Two reports over the last twelve whole months: the DRIHL report of one territory, and the
synthesis of every territory (``Report.Kind.SYNTHESIS``, no territory). For each, the candidate
is ``evaluation.reports.report_build``, what the Celery task runs: the figures computed from the
roll-ups and cost inputs, the SVG charts, the HTML template, WeasyPrint, the PDF and the figures
stored. The baseline is WeasyPrint alone, ``HTML(filename=...).write_pdf()``, on the very HTML
the candidate rendered (``evaluation.reports.report_html``, saved to a file once, before the
measured runs), with the same identifier: the two PDFs are compared byte for byte.

Every run of either side is a fresh process (``--child``), so its peak memory is its own: the
resident set size (``VmHWM``) at the end of the measured work, C allocations included.
Imports and Django's set-up happen before the clock starts, on both sides; a process starts
cold as a new worker would, font configuration included. Runs alternate (``harness.compare``)
after one unmeasured warm-up of each side. Targets: time ratio ≤ 1.5, peak memory < 1 GiB.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

TARGET_RATIO = 1.5
MEMORY_LIMIT_MIB = 1024
KINDS = ("drihl", "synthesis")


def peak_mib() -> float:
    """This process's peak resident set size, in MiB: ``VmHWM``, the high-water mark of its own
    memory map. (``ru_maxrss`` may also keep the high-water mark of the map the process had
    before ``exec``: a copy of the parent's, which would put a floor under every child's figure.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- The two sides, each in its own process ---------------------------------------------------


def run_baseline(html_path: Path) -> dict[str, Any]:
    from weasyprint import HTML

    identifier = html_path.with_suffix(".id").read_bytes()
    started = time.perf_counter()
    pdf = HTML(filename=str(html_path)).write_pdf(pdf_identifier=identifier)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mib": peak_mib(), "pdf_bytes": len(pdf), "sha256": sha256(pdf)}


def run_candidate(url: str, report_id: int, html_path: Path, *, save_html: bool) -> dict[str, Any]:
    harness.setup_django(url)
    import weasyprint  # noqa: F401 - imported before the clock starts, as in a worker that built a report
    from django.db import connection

    from evaluation import figures as figures_module
    from evaluation import reports
    from evaluation.models import Report

    phases: dict[str, float] = {}

    def timed_phase(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    figures_module.report_figures = timed_phase("figures", figures_module.report_figures)
    reports.report_html = timed_phase("charts and HTML", reports.report_html)
    reports.report_render = timed_phase("render", reports.report_render)
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    Report.objects.filter(pk=report_id).update(status=Report.Status.PENDING, progress=0, pdf="", figures={})
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        report = reports.report_build(report_id=report_id)
        seconds = time.perf_counter() - started
    peak = peak_mib()
    if report.status != Report.Status.DONE:
        raise SystemExit(f"Report {report_id} failed: {report.message}")
    with report.pdf.open("rb") as stored:
        pdf = stored.read()
    report.pdf.delete(save=False)
    phases["WeasyPrint"] = phases.pop("render") - phases["charts and HTML"]
    result = {
        "seconds": seconds,
        "peak_mib": peak,
        "pdf_bytes": len(pdf),
        "sha256": sha256(pdf),
        "queries": queries,
        "phases": phases,
    }
    if save_html:
        # The document the candidate printed, from the figures it stored (the same HTML).
        html = reports.report_html(report=report, figures=report.figures)
        html_path.write_text(html, encoding="utf-8")
        html_path.with_suffix(".id").write_bytes(reports.pdf_identifier(report, report.figures))
        result["html_bytes"] = len(html.encode())
    return result


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def child_main(args: argparse.Namespace) -> None:
    html_path = Path(args.html)
    if args.child == "baseline":
        result = run_baseline(html_path)
    else:
        result = run_candidate(args.database_url, args.report_id, html_path, save_html=args.save_html)
    print("RESULT " + json.dumps(result))


class Side:
    """Runs one side in a fresh process and keeps what each run reported."""

    def __init__(
        self, side: str, *, url: str, report_id: int, html: Path, media: str, epoch: str, timeout: int
    ) -> None:
        self.side, self.url, self.report_id, self.html = side, url, report_id, html
        # Both sides embed their font subsets with the date the platform fixes for every report
        # (``config.pdf.REPRODUCIBLE_EPOCH``), so that their PDFs can be compared byte for byte.
        self.env = {**os.environ, "DJANGO_MEDIA_ROOT": media, "SOURCE_DATE_EPOCH": epoch}
        self.timeout = timeout
        self.runs: list[dict[str, Any]] = []

    def __call__(self, *, save_html: bool = False) -> float:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            self.side,
            "--database-url",
            self.url,
            "--report-id",
            str(self.report_id),
            "--html",
            str(self.html),
        ]
        if save_html:
            command.append("--save-html")
        done = subprocess.run(  # noqa: S603 - this script, with our own arguments
            command, env=self.env, capture_output=True, text=True, timeout=self.timeout, check=False
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode or not lines:
            raise SystemExit(f"The {self.side} run failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result = json.loads(lines[-1].removeprefix("RESULT "))
        self.runs.append(result)
        return float(result["seconds"])

    def measured(self, warmup: int) -> list[dict[str, Any]]:
        return self.runs[warmup:]


# --- The benchmark ----------------------------------------------------------------------------


def last_whole_months(today: datetime.date, count: int) -> tuple[datetime.date, datetime.date]:
    end = today.replace(day=1) - datetime.timedelta(days=1)
    start = end.replace(day=1)
    for _month in range(count - 1):
        start = (start - datetime.timedelta(days=1)).replace(day=1)
    return start, end


def ensure_rollups(generation: harness.Generation) -> None:
    """The roll-ups the reports read, built over the generated days (unless a reused database has them)."""
    from costing import rollups
    from costing.models import DailyRollup
    from territories.models import Territory

    if generation.reused and DailyRollup.objects.all_territories().exists():
        return
    until = datetime.date.fromisoformat(generation.until)
    since = until - datetime.timedelta(days=generation.days - 1)
    ids = list(Territory.objects.all_territories().values_list("pk", flat=True))
    started = time.perf_counter()
    rows = rollups.rebuild(territory_ids=ids, since=since, until=until)
    print(f"Roll-ups built: {rows:,} rows in {time.perf_counter() - started:.1f} s.")


FILLED_SHARE = 0.9  # cost inputs entered for nine actor-months in ten; the rest are missing


def fill_inputs(*, since: datetime.date, until: datetime.date, seed: int) -> None:
    """What the reports read besides the roll-ups, which ``generate_scale`` does not write: the
    monthly cost inputs of kitchens, associations and authorities (nine in ten entered), the
    reference values, a grant or two per territory and a few journal entries. Written once."""
    import random
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from associations.models import Association
    from costing.models import (
        AssociationCost,
        CoordinationCost,
        Funding,
        KitchenCostInput,
        ReferenceValue,
    )
    from costing.services import months_of
    from evaluation.models import JournalEntry
    from kitchens.models import Kitchen
    from territories.models import Authority, Territory

    if KitchenCostInput.objects.all_territories().exists():
        return
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    months = months_of(since, until)

    def euros(low: float, high: float) -> Decimal:
        return Decimal(str(round(rng.uniform(low, high), 2)))

    kitchens = [
        KitchenCostInput(
            territory_id=territory_id,
            kitchen_id=kitchen_id,
            month=month,
            food_cost_per_meal=euros(1.8, 2.6),
            packaging_per_meal=euros(0.1, 0.3),
            energy_per_meal=euros(0.05, 0.15),
            extra_labour_hours=euros(20, 200),
            labour_hourly_cost=euros(28, 35),
            surplus_handling_hours=euros(2, 20),
            other_direct_costs=euros(0, 500),
        )
        for kitchen_id, territory_id in Kitchen.objects.all_territories().values_list("pk", "territory_id")
        for month in months
        if rng.random() < FILLED_SHARE
    ]
    associations = []
    for association_id, territory_id in Association.objects.all_territories().values_list(
        "pk", "territory_id"
    ):
        for month in months:
            if rng.random() < FILLED_SHARE:
                equipment = rng.random() < 0.2
                associations.append(
                    AssociationCost(
                        territory_id=territory_id,
                        association_id=association_id,
                        month=month,
                        paid_staff_hours=euros(0, 80),
                        paid_staff_hourly_cost=euros(20, 28),
                        volunteer_hours=euros(20, 300),
                        premises_cost=euros(0, 800),
                        equipment_cost=euros(500, 4000) if equipment else Decimal(0),
                        equipment_amortisation_months=60 if equipment else None,
                        other_costs=euros(0, 300),
                    )
                )
    authorities: dict[int, int] = {}
    for authority_id, territory_id in (
        Authority.objects.all_territories().order_by("pk").values_list("pk", "territory_id")
    ):
        authorities.setdefault(territory_id, authority_id)
    coordination = [
        CoordinationCost(
            territory_id=territory_id,
            authority_id=authority_id,
            month=month,
            staff_hours=euros(4, 40),
            staff_hourly_cost=euros(30, 45),
            other_costs=euros(0, 200),
        )
        for territory_id, authority_id in authorities.items()
        for month in months
        if rng.random() < FILLED_SHARE
    ]
    references = [
        ReferenceValue(code=code, value=value, source="Valeur de test", source_date=since, valid_from=since)
        for code, value in (
            (ReferenceValue.Code.FOOD_PARCEL_COST, Decimal("2.10")),
            (ReferenceValue.Code.SOCIAL_GROCERY_COST, Decimal("3.40")),
            (ReferenceValue.Code.CO2_PER_MEAL, Decimal("1.5")),
            (ReferenceValue.Code.CO2_PER_KG_WASTE, Decimal("2.5")),
            (ReferenceValue.Code.MEAL_WEIGHT, Decimal("0.4")),
            (ReferenceValue.Code.VOLUNTEER_HOUR, Decimal("11.65")),
        )
    ]
    evaluator = get_user_model().objects.get(username="scale-evaluateur")
    fundings, journal = [], []
    natures = list(JournalEntry.Nature)
    categories = list(JournalEntry.Category)
    for number, territory_id in enumerate(Territory.objects.all_territories().values_list("pk", flat=True)):
        fundings.append(
            Funding(
                territory_id=territory_id,
                funder=Funding.Funder.DRIHL,
                funder_name="DRIHL Île-de-France",
                amount=euros(20_000, 80_000),
                period_start=since,
                period_end=until,
            )
        )
        if number % 3 == 0:
            fundings.append(
                Funding(
                    territory_id=territory_id,
                    funder=Funding.Funder.CARASSO,
                    funder_name="Fondation Carasso",
                    amount=euros(10_000, 40_000),
                    period_start=since,
                    period_end=until,
                )
            )
        for entry in range(4):
            journal.append(
                JournalEntry(
                    territory_id=territory_id,
                    observed_on=since + datetime.timedelta(days=rng.randrange((until - since).days + 1)),
                    author=evaluator,
                    category=rng.choice(categories),
                    nature=natures[entry % 2],
                    title=f"Observation {entry + 1}",
                    text="Les horaires de collecte ont été avancés d'une demi-heure pour tenir la chaîne du "
                    "froid ; l'association a recruté deux bénévoles pour les tournées du mercredi.",
                )
            )
    rows: list[Any] = [*kitchens, *associations, *coordination, *references, *fundings, *journal]
    for model in (KitchenCostInput, AssociationCost, CoordinationCost, ReferenceValue, Funding, JournalEntry):
        model.objects.bulk_create([row for row in rows if type(row) is model], batch_size=5000)
    print(
        f"Inputs written in {time.perf_counter() - started:.1f} s: {len(kitchens):,} kitchen-months, "
        f"{len(associations):,} association-months, {len(coordination):,} coordination-months, "
        f"{len(fundings):,} grants, {len(journal):,} journal entries."
    )


def main() -> None:
    parser = harness.arguments(__doc__ or "", territories=20, runs=3)
    parser.set_defaults(
        database_url=os.environ.get(
            "BENCH_DATABASE_URL", harness.with_name(harness.DEFAULT_URL, "passerelle_bench_pdf")
        )
    )
    parser.add_argument("--months", type=int, default=12, help="Length of the reports' period.")
    parser.add_argument(
        "--synthesis-runs", type=int, help="Measured runs of the synthesis (default: --runs); long at scale."
    )
    parser.add_argument("--only", choices=KINDS, action="append", help="Measure only this report.")
    parser.add_argument("--timeout", type=int, default=1800, help="Seconds allowed to one run.")
    parser.add_argument("--child", choices=("candidate", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--report-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--html", help=argparse.SUPPRESS)
    parser.add_argument("--save-html", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return

    generation = harness.setup(args)
    ensure_rollups(generation)
    until = datetime.date.fromisoformat(generation.until)
    fill_inputs(since=until - datetime.timedelta(days=generation.days - 1), until=until, seed=args.seed)

    from django.contrib.auth import get_user_model

    from config import pdf as config_pdf
    from evaluation import reports
    from evaluation.models import Report
    from territories.models import Territory

    today = datetime.date.fromisoformat(generation.until)
    start, end = last_whole_months(today, args.months)
    if args.months > reports.MAX_MONTHS:
        raise SystemExit(f"Reports cover at most {reports.MAX_MONTHS} months.")
    evaluator = get_user_model().objects.get(username="scale-evaluateur")
    territory = Territory.objects.all_territories().order_by("name").first()
    territory_count = Territory.objects.all_territories().count()
    wanted = {
        "drihl": (Report.Kind.DRIHL, territory, f"DRIHL report, 1 territory, {args.months} months"),
        "synthesis": (
            Report.Kind.SYNTHESIS,
            None,
            f"synthesis, {territory_count} territories, {args.months} months",
        ),
    }
    print(f"{territory_count} territories; period {start} to {end}")
    results: list[harness.Result] = []
    extra: dict[str, Any] = {
        "territories": territory_count,
        "days generated": f"{generation.days} (until {generation.until})",
        "period": f"{start} to {end}",
    }
    workdir = Path(tempfile.mkdtemp(prefix="passerelle-bench-pdf-"))
    for key in args.only or KINDS:
        kind, where, name = wanted[key]
        report = Report.objects.create(
            kind=kind, territory=where, period_start=start, period_end=end, requested_by=evaluator
        )
        html = workdir / f"{key}.html"
        sides = {
            side: Side(
                side,
                url=args.database_url,
                report_id=report.pk,
                html=html,
                media=str(workdir / "media"),
                epoch=config_pdf.REPRODUCIBLE_EPOCH,
                timeout=args.timeout,
            )
            for side in ("candidate", "baseline")
        }
        print(f"{name}: the candidate's HTML (report {report.pk})...")
        first = sides["candidate"](save_html=True)
        prepared = sides["candidate"].runs.pop()
        print(
            f"  {first:.3f} s, HTML {prepared['html_bytes'] / 2**20:.1f} MiB, {prepared['queries']} queries"
        )
        result = harness.compare(
            name,
            candidate=("report_build", sides["candidate"]),
            baseline=("WeasyPrint on the saved HTML", sides["baseline"]),
            runs=args.synthesis_runs or args.runs if key == "synthesis" else args.runs,
            target=TARGET_RATIO,
        )
        candidate_runs, baseline_runs = sides["candidate"].measured(1), sides["baseline"].measured(1)
        memory = harness.Result(
            f"{name}: peak memory",
            "report_build",
            "WeasyPrint on the saved HTML",
            [run["peak_mib"] for run in candidate_runs],
            [run["peak_mib"] for run in baseline_runs],
            unit="MiB",
        )
        peak = max(run["peak_mib"] for run in candidate_runs)
        baseline_peak = max(run["peak_mib"] for run in baseline_runs)
        memory.note = (
            f"highest candidate peak {peak:,.0f} MiB, baseline {baseline_peak:,.0f} "
            f"MiB; under {MEMORY_LIMIT_MIB} MiB: {'yes' if peak < MEMORY_LIMIT_MIB else 'no'}"
        )
        phases = {
            phase: statistics.median(run["phases"][phase] for run in candidate_runs)
            for phase in candidate_runs[0]["phases"]
        }
        same = {run["sha256"] for run in candidate_runs} == {run["sha256"] for run in baseline_runs}
        result.note = (
            "candidate phases (medians): "
            + ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in phases.items())
            + f"; {candidate_runs[0]['queries']} queries; HTML {prepared['html_bytes'] / 2**20:.2f} MiB; "
            f"PDF {candidate_runs[0]['pdf_bytes'] / 2**20:.2f} MiB; same PDF bytes on both sides: "
            f"{'yes' if same else 'no'}"
        )
        results += [result, memory]
        report.delete()
    harness.report("PDF reports", harness.command_line(), results, extra)
    if args.drop:
        harness.drop_database(args.database_url)


if __name__ == "__main__":
    main()
