"""A roll-up task killed mid-way, then run again, gives the same roll-ups as one clean run.

A real Celery worker (prefork, one pool process, as deployed) runs in a subprocess on the Redis
broker and the test database. The test holds a lock on the month's cost table, so the task stops
after writing the day's roll-ups and before the month's figures; then it is killed with SIGKILL
(no clean shutdown, no acknowledgement):

- the pool process alone (as the kernel's OOM killer would): the worker's main process sees it
  lost and puts the message back (``reject_on_worker_lost``), and the task runs again;
- the whole worker (a machine gone): nothing of the half-done run may remain (the task is one
  transaction), and a second worker receives the same message once Redis' visibility timeout
  has passed (``acks_late``: the message is acknowledged only when the task is done).
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.db import connection

from config.celery import app as celery_app
from costing import rollups, tasks
from costing.models import DailyRollup, MonthlyCost
from tests.conftest import NO_REAL_BROKER, has_real_broker, needs, wait_for
from tests.scenes import Scene

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
# A queue of this run's own: a message left unacknowledged by an earlier run goes back to its
# own queue, never to this run's workers.
QUEUE = f"test-rollup-killed-{uuid.uuid4().hex[:12]}"
# Short, so the second worker gets the message back within seconds (3600 in production).
VISIBILITY_TIMEOUT_S = 2
YESTERDAY = datetime.date.today() - datetime.timedelta(days=1)


def test_database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen]]:
    """``start_worker(name)``: a Celery worker consuming the test queue only, in its own process group."""
    needs(has_real_broker(), NO_REAL_BROKER)
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        log = (tmp_path / f"{name}.log").open("w")
        worker = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
             "--queues", QUEUE, "--hostname", f"{name}@%h", "--without-mingle", "--without-gossip",
             "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
    for log in sorted(tmp_path.glob("*.log")):
        sys.stdout.write(f"--- {log.name}\n{log.read_text()}")  # shown by pytest on failure


def rollup_rows(territory: Any) -> list[tuple]:
    return sorted(
        DailyRollup.objects.filter(territory=territory).values_list(
            "day", "partnership_id", *rollups.SUMMED_FIELDS
        )
    )


def month_figures(territory: Any) -> list[tuple]:
    return list(
        MonthlyCost.objects.all_territories()
        .filter(territory=territory)
        .order_by("month")
        .values_list("month", "figures", "complete")
    )


def backends_of(database: str) -> list[tuple[int, str, str]]:
    """Other sessions on the test database: (pid, wait event type, query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, coalesce(wait_event_type, ''), query FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return cursor.fetchall()


def waiting_on_month_costs(database: str) -> list[int]:
    return [
        pid for pid, wait, query in backends_of(database) if wait == "Lock" and "costing_monthlycost" in query
    ]


def pool_processes_of(worker: subprocess.Popen) -> list[int]:
    """The pids of the worker's pool processes (its children)."""
    children = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
        except OSError:  # the process ended meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == worker.pid:  # the field after the name is the ppid
            children.append(int(stat.split()[0]))
    return children


@pytest.fixture
def unrolled_scene() -> tuple[Scene, list[tuple], list[tuple]]:
    """A territory with three batches yesterday, its roll-ups and month figures from a clean run
    (what the writes queued, run in-process), then both deleted: the state before any roll-up."""
    scene = Scene()
    for number in range(3):
        scene.batch(production_date=YESTERDAY, meals_count=40 + number, lot_number=f"K{number}")
    expected_rows = rollup_rows(scene.territory)
    expected_months = [row for row in month_figures(scene.territory) if row[0] == YESTERDAY.replace(day=1)]
    assert [row[2] for row in expected_rows] == [3]  # one partnership, 3 batches
    assert len(expected_months) == 1
    DailyRollup.objects.filter(territory=scene.territory).delete()
    MonthlyCost.objects.all_territories().filter(territory=scene.territory).delete()
    return scene, expected_rows, expected_months


@contextmanager
def month_costs_locked() -> Iterator[Callable[[], None]]:
    """Holds a lock that stops the task at the month's figures (reads go on); yields its release."""
    blocker = psycopg2.connect(test_database_url())
    try:
        with blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE costing_monthlycost IN EXCLUSIVE MODE")
        yield blocker.rollback
    finally:
        blocker.close()


def queue_rollup(scene: Scene) -> None:
    celery_app.conf.task_always_eager = False  # the autouse fixture sets it back
    tasks.rollup_territory_day.apply_async((scene.territory.pk, YESTERDAY.isoformat()), queue=QUEUE)


def test_a_rollup_task_whose_pool_process_is_killed_is_run_again_by_its_worker(start_worker, unrolled_scene):
    scene, expected_rows, expected_months = unrolled_scene
    database = connection.settings_dict["NAME"]
    with month_costs_locked() as release:
        queue_rollup(scene)
        worker = start_worker("worker")
        blocked = wait_for(lambda: waiting_on_month_costs(database), "the task to reach the month's figures")
        [killed] = pool_processes_of(worker)
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: pool_processes_of(worker) not in ([], [killed]), "a new pool process")
        release()

    wait_for(lambda: month_figures(scene.territory), "the worker to run the task again")
    assert rollup_rows(scene.territory) == expected_rows
    assert month_figures(scene.territory) == expected_months
    assert worker.poll() is None  # the same worker, still running
    assert all(pid not in blocked for pid, _, _ in backends_of(database))


def test_a_rollup_task_killed_with_its_worker_leaves_nothing_and_a_second_worker_redoes_it(
    start_worker, unrolled_scene
):
    scene, expected_rows, expected_months = unrolled_scene
    database = connection.settings_dict["NAME"]
    with month_costs_locked() as release:
        queue_rollup(scene)
        first = start_worker("first")
        blocked = wait_for(lambda: waiting_on_month_costs(database), "the task to reach the month's figures")
        delivered_at = time.monotonic()
        # The day's rows are written, in the task's transaction, when the worker dies.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        release()  # the dead worker's transaction can only roll back now
        wait_for(
            lambda: not any(pid in blocked for pid, _, _ in backends_of(database)),
            "the dead worker's session to end",
        )

    assert rollup_rows(scene.territory) == [], "the killed task left the roll-ups of a half-done run"
    assert month_figures(scene.territory) == []

    # Redis gives the unacknowledged message back once the visibility timeout has passed.
    time.sleep(max(0.0, delivered_at + VISIBILITY_TIMEOUT_S + 1 - time.monotonic()))
    start_worker("second")
    wait_for(lambda: month_figures(scene.territory), "the second worker to redo the task", seconds=90)
    assert rollup_rows(scene.territory) == expected_rows
    assert month_figures(scene.territory) == expected_months
