"""Dashboard and indicator API under concurrent load: p50 and p95 against a trivial
authenticated view on the same server, and a year of history against a month.

    .venv/bin/python bench/dashboard_load.py --territories 50 --days 365 --runs 3 [--reuse]

Two databases generated alike but for their length: ``passerelle_bench_load`` (``--days``, a
year) and ``passerelle_bench_load_month`` (30 days), roll-ups built in both (what the
indicators and dashboards read). Each is served by gunicorn (``config.wsgi``, ``--workers``
sync workers) with production settings (``DJANGO_DEBUG=false``); requests carry
``X-Forwarded-Proto: https`` as behind the TLS proxy, so nothing is redirected. The API's
token rate limit is raised for the run (the load is one client). wrk (``bench/dashboard_load.lua``)
runs ``--connections`` concurrent connections for ``--duration`` seconds per run, with the
API token of ``scale-evaluateur`` (the dashboard page: its session cookie), and reports p50 and
p95 of the latency.

Measures, each alternating with its baseline run by run after one warm-up of each:

- ``GET /api/v1/indicators/?territory=<id>`` (one territory), against ``GET
  /api/v1/territories/<id>/`` (token, scope, one row: the trivial authenticated view);
- ``GET /api/v1/indicators/`` (the first page of territories side by side, 10), against the same;
- the territory dashboard page (session), against the same trivial view;
- the one-territory indicators on a year of history against a month of history.

Every measure asks for the same period, the last 30 days (both databases hold them).
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness

MONTH_DAYS = 30
PERIOD_DAYS = 30
# One secret key for the servers and for this process, which writes the evaluator's session
# (its data and the password hash it holds are signed with the key).
SECRET_KEY = secrets.token_urlsafe(50)
LUA = Path(__file__).resolve().parent / "dashboard_load.lua"


@dataclass
class Server:
    """A gunicorn serving one benchmark database, with the credentials of the evaluator."""

    name: str
    url: str
    base: str
    token: str
    cookie: str
    territory: int
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None


@dataclass
class Latencies:
    """Every run of one request: p50 and p95 in seconds, requests per second."""

    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    bad: int = 0


def main() -> None:
    parser = harness.arguments(__doc__ or "", runs=3)
    parser.set_defaults(database_url=harness.with_name(harness.DEFAULT_URL, "passerelle_bench_load"))
    parser.add_argument("--connections", type=int, default=8, help="Concurrent wrk connections.")
    parser.add_argument("--duration", type=int, default=15, help="Seconds of each wrk run.")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers.")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY

    year_url = args.database_url
    month_url = f"{year_url}_month"
    generations = {
        "year": harness.setup(args, year_url),
        "month": harness.setup(args, month_url, days=MONTH_DAYS),
    }
    today = datetime.date.today()
    start, end = today - datetime.timedelta(days=PERIOD_DAYS - 1), today
    period = f"start={start.isoformat()}&end={end.isoformat()}"
    collect_static()

    with ExitStack() as stack:
        servers = {
            name: stack.enter_context(serve(name, url, workers=args.workers))
            for name, url in (("year", year_url), ("month", month_url))
        }
        year, month = servers["year"], servers["month"]
        identical = check_side_by_side(year_url, start, end)
        trivial = f"/api/v1/territories/{year.territory}/"
        one = f"/api/v1/indicators/?territory={year.territory}&{period}"
        side = f"/api/v1/indicators/?{period}"
        dashboard = f"/territoires/{year.territory}/tableau-de-bord/?{period}"
        for server in servers.values():
            for path in (trivial, one, side, dashboard):
                check(server, path.replace(str(year.territory), str(server.territory)))

        seen: dict[tuple[str, str], Latencies] = {}

        def run(server: Server, path: str, *, session: bool = False) -> float:
            """One wrk run; returns its p95 in seconds and keeps its p50 and rate."""
            outcome = wrk(server, path, args, session=session)
            into = seen.setdefault((server.name, path), Latencies())
            into.p50.append(outcome["p50"] / 1e6)
            into.p95.append(outcome["p95"] / 1e6)
            into.rates.append(outcome["requests"] / (outcome["duration_us"] / 1e6))
            into.bad += outcome["bad_status"] + outcome["socket_errors"]
            print(
                f"    {server.name} {path}: p50 {outcome['p50'] / 1000:.1f} ms, "
                f"p95 {outcome['p95'] / 1000:.1f} ms, {into.rates[-1]:.0f} req/s"
            )
            return outcome["p95"] / 1e6

        trivial_label = "trivial view (territory detail)"
        results = [
            harness.compare(
                "p95, indicators of one territory",
                candidate=("indicators, one territory", lambda: run(year, one)),
                baseline=(trivial_label, lambda: run(year, trivial)),
                runs=args.runs,
                target=3,
            ),
            harness.compare(
                "p95, indicators side by side (10 territories)",
                candidate=("indicators, page of 10", lambda: run(year, side)),
                baseline=(trivial_label, lambda: run(year, trivial)),
                runs=args.runs,
                target=3,
            ),
            harness.compare(
                "p95, territory dashboard page",
                candidate=("dashboard page (session)", lambda: run(year, dashboard, session=True)),
                baseline=(trivial_label, lambda: run(year, trivial)),
                runs=args.runs,
                target=3,
            ),
        ]
        month_one = one.replace(str(year.territory), str(month.territory))
        results.append(
            harness.compare(
                "p95, indicators of one territory: year against month",
                candidate=("a year of history", lambda: run(year, one)),
                baseline=("a month of history", lambda: run(month, month_one)),
                runs=args.runs,
                target=1.2,
            )
        )
        harness.setup_django(year_url)  # the machine's description reads this database

    # The first run of each request is a warm-up: left out of these medians.
    def median(values: list[float]) -> float:
        return statistics.median(values[1:] if len(values) > 1 else values)

    p50_rows = []
    for (server_name, path), latencies in seen.items():
        p50_rows.append(
            f"{server_name} `{path}`: p50 {median(latencies.p50) * 1000:.1f} ms, "
            f"p95 {median(latencies.p95) * 1000:.1f} ms, {median(latencies.rates):.0f} req/s "
            f"(median of {max(1, len(latencies.p95) - 1)} runs, the first left out; answers other than 200 "
            f"or socket errors over all its runs: {latencies.bad})"
        )
    for result in results:
        result.unit = "s"
    extra = {
        "records, year": f"{generations['year'].rows:,}",
        "records, month": f"{generations['month'].rows:,}",
        "period asked": f"{start} to {end}",
        "side by side identical to each territory alone (first page, year)": identical,
        "load": (
            f"wrk, {args.connections} connections, {args.threads} threads, {args.duration} s per run; "
            f"gunicorn {args.workers} sync workers per database, DJANGO_DEBUG=false"
        ),
        "medians of each request (p50, p95, rate)": "\n  - " + "\n  - ".join(p50_rows),
    }
    harness.report("Dashboard and indicators under load", harness.command_line(), results, extra)
    if args.drop:
        for url in (year_url, month_url):
            harness.drop_database(url)


# --- Servers ------------------------------------------------------------------------------


def collect_static() -> None:
    """With DEBUG off the pages name their static files through the manifest: build it."""
    manifest = harness.ROOT / "staticfiles" / "staticfiles.json"
    if manifest.exists():
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=harness.ROOT,
        env={**os.environ, **production_env("sqlite:///:memory:")},
        check=True,
    )


def production_env(url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",
        # One client makes the whole load: the per-token rate limit would answer 429.
        "PASSERELLE_API_TOKEN_RATE": "1000000/minute",
    }


def check_side_by_side(url: str, start: datetime.date, end: datetime.date) -> str:
    """The API's first page read side by side (grouped, not cached) against each territory read
    alone by ``compute_indicators``: the values must be identical."""
    harness.setup_django(url)
    from evaluation import indicators
    from territories.models import Territory

    territories = list(Territory.objects.all_territories().order_by("name", "pk")[:10])
    if "cached" not in indicators.side_by_side.__code__.co_varnames:
        return "not checked (one call per territory)"
    pairs = indicators.side_by_side(territories=territories, start=start, end=end, cached=False)
    for territory, result in pairs:
        alone = indicators.compute_indicators(territory_ids=[territory.pk], start=start, end=end)
        if result.as_dict() != alone.as_dict():
            raise SystemExit(f"Side by side differs from the territory alone: {territory}")
    return f"yes, {len(pairs)} territories"


def credentials(url: str) -> tuple[str, str, int]:
    """The evaluator's API token and session cookie, and the first territory's id."""
    harness.setup_django(url)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from meals.management.commands.generate_scale import EVALUATOR_USERNAME
    from territories.models import Territory
    from territories.tokens import token_issue

    user = get_user_model().objects.get(username=EVALUATOR_USERNAME)
    _instance, token = token_issue(user=user, device="bench")
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    territory = Territory.objects.all_territories().order_by("pk").values_list("pk", flat=True).first()
    assert territory is not None
    return token, f"{settings.SESSION_COOKIE_NAME}={session.session_key}", territory


def ensure_rollups(url: str) -> None:
    """Roll-ups of every territory over the whole history (written only where they differ), and
    the frozen cost figures of every territory-month, as the roll-up task leaves them."""
    harness.setup_django(url)
    from django.db.models import Min

    from costing import rollups
    from costing.models import DailyRollup, MonthlyCost
    from costing.services import monthly_cost_refresh, months_of
    from territories.models import Territory

    ids = list(Territory.objects.all_territories().values_list("pk", flat=True))
    today = datetime.date.today()
    started = time.perf_counter()
    rows = rollups.rebuild(territory_ids=ids, since=today - datetime.timedelta(days=400), until=today)
    print(f"Roll-ups of {harness.database_name(url)}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    if MonthlyCost.objects.all_territories().exists():
        return
    first = DailyRollup.objects.all_territories().aggregate(first=Min("day"))["first"] or today
    started = time.perf_counter()
    months = months_of(first, today)
    for territory_id in ids:
        for month in months:
            monthly_cost_refresh(territory_id=territory_id, month=month)
    print(f"  monthly cost figures: {len(ids) * len(months)} in {time.perf_counter() - started:.1f} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(name: str, url: str, *, workers: int) -> Iterator[Server]:
    ensure_rollups(url)
    token, cookie, territory = credentials(url)
    harness.close_connections()
    port = free_port()
    log = Path(f"/tmp/passerelle-bench-gunicorn-{name}.log")  # noqa: S108 - a log of the run
    server = Server(name, url, f"http://127.0.0.1:{port}", token, cookie, territory, log=log)
    with log.open("wb") as output:
        server.process = subprocess.Popen(  # noqa: S603 - our own command line
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
            ],
            cwd=harness.ROOT,
            env={**os.environ, **production_env(url)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                check(server, f"/api/v1/territories/{territory}/", quiet=True)
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline or server.process.poll() is not None:
                    raise SystemExit(f"gunicorn did not start: see {log}") from None
                time.sleep(0.5)
        pid = server.process.pid
        print(f"Serving {harness.database_name(url)} on {server.base} ({workers} workers, pid {pid})")
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)


class KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect (to the login page) is an answer of its own, not followed


NO_REDIRECT = urllib.request.build_opener(KeepRedirects)


def check(server: Server, path: str, *, quiet: bool = False) -> None:
    """One request, which must answer 200 (the run would otherwise time errors)."""
    session = "/api/" not in path
    request = urllib.request.Request(  # noqa: S310 - our own local server
        server.base + path,
        headers={
            "X-Forwarded-Proto": "https",
            **({"Cookie": server.cookie} if session else {"Authorization": f"Token {server.token}"}),
        },
    )
    try:
        with NO_REDIRECT.open(request, timeout=120) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{path} answered {error.code} {error.headers.get('Location', '')}") from None
    if not quiet:
        print(f"  {server.name} {path}: 200, {len(body):,} bytes")


def wrk(server: Server, path: str, args: Any, *, session: bool) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_TOKEN": "" if session else server.token,
        "BENCH_COOKIE": server.cookie if session else "",
    }
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--timeout=60s",
        f"--script={LUA}",
        server.base + path,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    for line in output.splitlines():
        if line.startswith("RESULT "):
            outcome: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            if outcome["requests"] == 0:
                raise SystemExit(f"wrk made no request on {path}:\n{output}")
            # Requests still queued in the server when wrk stopped would slow the next run.
            time.sleep(min(60.0, 1 + 2 * outcome["max"] / 1e6))
            return outcome
    raise SystemExit(f"wrk gave no result on {path}:\n{output}")


if __name__ == "__main__":
    main()
