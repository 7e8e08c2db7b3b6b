"""No work lost when Redis or a worker fails: the database holds what is owed, sweepers send it.

Real parts only: PostgreSQL, a redis-server this module starts on a port of its own (and stops,
which loses every message it held, as a Redis without persistence does), Celery workers started
with ``celery -A config worker`` in their own process groups, their embedded beat running the
sweepers every second (``PASSERELLE_SWEEP_SECONDS``), with short delays and leases set through
the environment as an operator would.

- Broker down: a distribution deleted and a transport cost recorded about a day 30 days back,
  and a report asked, all through the API of a process whose broker is the stopped Redis; they
  answer success, the report says it is queued. Once Redis is back and the sweepers run, the
  roll-ups and the month's cost figures equal a full rebuild, and the report is built, without
  anyone retrying; a second sweep changes nothing.
- Worker killed: a worker building a report is killed (SIGKILL to its process group) while it
  holds the report's lease; another worker builds it once the lease has run out, with no retry.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import redis
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from config import leases
from costing import pending, rollups
from costing import services as costing_services
from costing.models import DailyRollup, MonthlyCost, StaleDay
from evaluation import reports
from evaluation.models import Report
from meals import imports, services
from meals.models import Batch, RecordImport
from territories.roles import Role
from tests.conftest import NO_REAL_BROKER, has_real_broker, needs, tasks_to_broker, wait_for
from tests.costing.test_rollup_worker_killed import backends_of, test_database_url
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import member
from tests.meals.test_record_import_pages import csv_upload
from tests.scenes import Scene

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[1]
# The lease of a report in these tests (300 s in production): a killed worker's report is taken
# back within it, plus the time a second worker takes to start and build.
LEASE_S = 3
MARGIN_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, on a free port; stopping it loses what it held."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(self.answers, "redis-server to start", seconds=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    needs(has_real_broker(), NO_REAL_BROKER)
    needs(bool(shutil.which("redis-server")), "redis-server is not installed")
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def environment(**extra: str) -> dict[str, str]:
    """A process of the platform on the test database, as an operator would configure it."""
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


@pytest.fixture
def start_worker(tmp_path: Path, settings: Any) -> Iterator[Callable[..., subprocess.Popen]]:
    """``start_worker(name, broker=None, beat=False)``: ``celery -A config worker`` in its own
    process group, with the sweepers every second when ``beat``; killed at the end."""
    started: list[subprocess.Popen] = []
    media = str(settings.MEDIA_ROOT)

    def start(name: str, *, broker: str | None = None, beat: bool = False) -> subprocess.Popen:
        env = environment(
            DJANGO_MEDIA_ROOT=media,
            CELERY_BROKER_URL=broker or os.environ["CELERY_BROKER_URL"],
            PASSERELLE_SWEEP_SECONDS="1",
            PASSERELLE_RESEND_AFTER_SECONDS="1",
            PASSERELLE_LEASE_SECONDS=str(LEASE_S),
        )
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
            "--hostname", f"{name}@%h", "--without-mingle", "--without-gossip", "--loglevel", "INFO",
        ]  # fmt: skip
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"{name}-beat")]
        log = (tmp_path / f"{name}.log").open("w")
        worker = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    for log in sorted(tmp_path.glob("*.log")):
        sys.stdout.write(f"--- {log.name}\n{log.read_text()}")  # shown by pytest on failure


def rollup_rows(territory_id: int) -> list[tuple]:
    return sorted(
        DailyRollup.objects.all_territories()
        .filter(territory_id=territory_id)
        .values_list("day", "partnership_id", *rollups.SUMMED_FIELDS)
    )


def month_figures(territory_id: int) -> list[tuple]:
    return list(
        MonthlyCost.objects.all_territories()
        .filter(territory_id=territory_id)
        .order_by("month")
        .values_list("month", "figures", "complete")
    )


def day_row(territory_id: int, day: datetime.date) -> tuple:
    return (
        DailyRollup.objects.all_territories()
        .filter(territory_id=territory_id, day=day)
        .values_list(
            "distributions", "meals_distributed", "people_served", "transport_cost", "pickups_without_cost"
        )
        .get()
    )


WRITES_DURING_OUTAGE = """
import json
from django.test import Client
from django.contrib.auth import get_user_model
users = get_user_model().objects
answers = {{}}
client = Client()
client.force_login(users.get(pk={volunteer}))
answers["delete"] = client.delete("/api/v1/distributions/{distribution}/").status_code
client.force_login(users.get(pk={coordinator}))
cost = client.post("/api/v1/transport-costs/", {cost}, content_type="application/json")
answers["cost"] = cost.status_code
client.force_login(users.get(pk={evaluator}))
report = client.post("/api/v1/reports/", {report}, content_type="application/json")
answers["report"] = [report.status_code, report.json()]
print("ANSWERS " + json.dumps(answers))
"""


def test_work_written_while_the_broker_is_down_is_done_once_it_is_back(own_redis, start_worker):
    references()
    day = timezone.localdate() - datetime.timedelta(days=30)
    month = day.replace(day=1)
    scene = Scene()
    territory_id = scene.territory.pk
    batch = scene.past_batch(
        production_date=day, use_by_date=day + datetime.timedelta(days=3), meals_count=60
    )
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    pickup = scene.pickup(batch, picked_up_at=noon, distance_km=Decimal("12.0"), duration_minutes=30)
    distribution = services.distribution_record(
        pickup=pickup, by=scene.volunteer, site=scene.site, distributed_on=day, meals_distributed=60,
        beneficiaries=45, temperature_c=Decimal("2.5"),
    )  # fmt: skip
    # Built in-process as the writes committed (eager tasks): one distribution, no transport rate.
    assert day_row(territory_id, day) == (1, 60, 45, Decimal("0.00"), 1)
    assert not StaleDay.objects.all_territories().exists()
    coordinator = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    evaluator = member(Role.EVALUATOR)

    own_redis.start()
    own_redis.stop()  # the broker is down, and whatever it held is gone
    script = WRITES_DURING_OUTAGE.format(
        volunteer=scene.volunteer.pk,
        distribution=distribution.pk,
        coordinator=coordinator.pk,
        evaluator=evaluator.pk,
        cost=repr(
            {
                "territory": territory_id, "month": str(month), "transport_mode": "association_vehicle",
                "cost_per_km": "0.50", "driver_hourly_cost": "24.00",
            }
        ),
        report=repr(
            {"kind": "drihl", "territory": territory_id, "period_start": str(month), "period_end": str(day)}
        ),
    )  # fmt: skip
    done = subprocess.run(  # noqa: S603 - our own manage.py with a fixed script
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=environment(CELERY_BROKER_URL=own_redis.url), capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.split("ANSWERS ", 1)[1])
    assert (answers["delete"], answers["cost"], answers["report"][0]) == (204, 201, 202)
    report_id = answers["report"][1]["id"]
    assert answers["report"][1]["status"] == "pending"
    assert "sera traitée automatiquement dès son retour" in answers["report"][1]["message"]
    assert "not queued: broker unreachable" in done.stderr

    # What the records say now was not rolled up: the marks in the database say so.
    assert day_row(territory_id, day) == (1, 60, 45, Decimal("0.00"), 1)
    last = min(
        timezone.localdate(),
        (month + datetime.timedelta(days=31)).replace(day=1) - datetime.timedelta(days=1),
    )
    marked = set(
        StaleDay.objects.all_territories().filter(territory_id=territory_id).values_list("day", flat=True)
    )
    assert marked == {month + datetime.timedelta(days=n) for n in range((last - month).days + 1)}
    assert Report.objects.get(pk=report_id).sent_at is None

    own_redis.start()  # back, empty
    start_worker("after-outage", broker=own_redis.url, beat=True)

    def caught_up() -> bool:
        report = Report.objects.get(pk=report_id)
        return report.status in ("done", "failed") and not StaleDay.objects.all_territories().exists()

    wait_for(caught_up, "the sweepers to send the marks and the report again", seconds=120)
    report = Report.objects.get(pk=report_id)
    assert (report.status, report.progress, report.message, report.attempts) == ("done", 100, "", 1)
    with report.pdf.open("rb") as pdf:
        assert scene.territory.name in PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()

    # Worked out by hand: the distribution is gone; 12 km at 0.50 € + 30 min at 24 €/h = 18.00 €.
    assert day_row(territory_id, day) == (0, 0, 0, Decimal("18.00"), 0)
    after_sweep = rollup_rows(territory_id), month_figures(territory_id)
    rollups.rebuild(territory_ids=[territory_id], since=month, until=timezone.localdate())
    for each in sorted({row[0].replace(day=1) for row in after_sweep[0]} | {month}):
        costing_services.monthly_cost_refresh(territory_id=territory_id, month=each)
    assert (rollup_rows(territory_id), month_figures(territory_id)) == after_sweep

    # The sweep run again (twice) finds nothing to send and changes nothing.
    tasks_to_broker()
    for _ in range(2):
        assert pending.stale_days_sweep() == 0
        assert reports.report_sweep() == {"failed": 0, "requeued": 0, "resent": 0}
    assert (rollup_rows(territory_id), month_figures(territory_id)) == after_sweep
    assert Report.objects.filter(pk=report_id).values_list("status", "attempts").get() == ("done", 1)


def waiting_on_lock(database: str, table: str) -> list[int]:
    """The backends of ``database`` whose query waits on a lock of ``table``."""
    return [pid for pid, wait, query in backends_of(database) if wait == "Lock" and table in query]


def test_a_report_whose_worker_is_killed_is_built_by_another_once_the_lease_runs_out(start_worker):
    needs(has_real_broker(), NO_REAL_BROKER)
    references()
    plaine = pilot()
    evaluator = member(Role.EVALUATOR)
    database = connection.settings_dict["NAME"]
    blocker = psycopg2.connect(test_database_url())
    try:
        with blocker.cursor() as cursor:  # the build stops at its first read of the roll-ups
            cursor.execute("LOCK TABLE costing_dailyrollup IN ACCESS EXCLUSIVE MODE")
        tasks_to_broker()
        report = reports.report_request(
            kind="drihl", territory=plaine.territory, period_start=START, period_end=END, by=evaluator
        )
        first = start_worker("first")
        wait_for(
            lambda: waiting_on_lock(database, "costing_dailyrollup"),
            "the first worker to start building",
            seconds=90,
        )
        running = Report.objects.get(pk=report.pk)
        assert (running.status, running.attempts) == ("running", 1)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        killed_at = time.monotonic()
        blocker.rollback()
    finally:
        blocker.close()

    start_worker("second", beat=True)
    status = wait_for(
        lambda: Report.objects.filter(pk=report.pk, status__in=["done", "failed"]).first(),
        "another worker to build the report",
        seconds=LEASE_S + MARGIN_S,
    )
    elapsed = time.monotonic() - killed_at
    assert (status.status, status.progress, status.message, status.attempts) == ("done", 100, "", 2)
    assert status.lease_expires_at is None
    assert elapsed < LEASE_S + MARGIN_S
    with status.pdf.open("rb") as pdf:
        assert plaine.territory.name in PdfReader(io.BytesIO(pdf.read())).pages[0].extract_text()


def test_an_import_held_up_past_its_lease_keeps_it_and_is_loaded_once(start_worker):
    # The worker's load waits on a locked table for three lease lengths, the sweeper running
    # meanwhile: the lease, renewed from the worker's thread, never lapses, so nothing is taken
    # back or sent again, and the file loads once. The worker's claim clears the note the broker
    # outage left.
    needs(has_real_broker(), NO_REAL_BROKER)
    scene = Scene()
    coordinator = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    database = connection.settings_dict["NAME"]
    waiting = RecordImport.objects.create(
        territory=scene.territory, file=csv_upload(scene, "2,0"), uploaded_by=coordinator,
        report=leases.queued_note(),
    )  # fmt: skip
    blocker = psycopg2.connect(test_database_url())
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE meals_batch IN ACCESS EXCLUSIVE MODE")
        tasks_to_broker()
        assert imports.send_import(waiting.pk)
        start_worker("importer")
        wait_for(lambda: waiting_on_lock(database, "meals_batch"), "the worker to start loading", seconds=90)
        running = RecordImport.objects.get(pk=waiting.pk)
        assert (running.status, running.attempts, running.report) == ("running", 1, "")
        held_until = time.monotonic() + 3 * LEASE_S
        while time.monotonic() < held_until:
            assert imports.record_import_sweep() == {"failed": 0, "requeued": 0, "resent": 0}
            time.sleep(0.5)
        blocker.rollback()
    finally:
        blocker.close()

    done = wait_for(
        lambda: RecordImport.objects.filter(pk=waiting.pk).exclude(status="running").first(),
        "the import to load",
        seconds=MARGIN_S,
    )
    assert (done.status, done.attempts, done.counts) == (
        "done",
        1,
        {"batches": 1, "pickups": 0, "distributions": 0},
    )
    assert done.lease_expires_at is None
    assert Batch.objects.filter(territory=scene.territory).count() == 1
