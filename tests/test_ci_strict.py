"""CI cannot lose the tests of PostgreSQL, Redis and the workers: with
``PASSERELLE_REQUIRE_SERVICES=1``, which the deployed phase of ``.ci/run`` sets, a test whose
service is missing fails instead of skipping.

Each case runs one such test in a pytest of its own, with the service taken away: Redis on a
closed port, or SQLite instead of PostgreSQL."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import xdist_redis_url

ROOT = Path(__file__).resolve().parent.parent
CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1
NEEDS_REDIS = "tests/test_settings.py::test_cache_url_gives_one_cache_to_every_process"
NEEDS_POSTGRESQL = "tests/meals/test_concurrency.py::test_two_concurrent_confirmations_make_one_pickup"


def pytest_run(test: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """A pytest of its own: none of this run's xdist, coverage or service settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "COV_CORE_", "COVERAGE_"))
        and name not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "PASSERELLE_REQUIRE_SERVICES"}
    }
    return subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "pytest", test, "-p", "no:cacheprovider", "--no-migrations", "-q"],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def summary(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


def test_a_redis_test_fails_when_redis_is_unreachable_and_services_are_required():
    required = pytest_run(NEEDS_REDIS, CELERY_BROKER_URL=CLOSED_PORT_BROKER, PASSERELLE_REQUIRE_SERVICES="1")
    lenient = pytest_run(NEEDS_REDIS, CELERY_BROKER_URL=CLOSED_PORT_BROKER)

    assert required.returncode == 1, required.stdout + required.stderr
    assert re.match(r"1 failed in ", summary(required)), required.stdout
    assert "needs the Redis that CI provides (PASSERELLE_REQUIRE_SERVICES=1" in required.stdout
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert re.match(r"1 skipped in ", summary(lenient)), lenient.stdout


def test_a_postgresql_test_fails_on_sqlite_when_services_are_required():
    required = pytest_run(NEEDS_POSTGRESQL, PASSERELLE_REQUIRE_SERVICES="1")

    assert required.returncode == 1, required.stdout + required.stderr
    assert re.match(r"1 failed in ", summary(required)), required.stdout
    assert "row locking is what is under test" in required.stdout


def test_the_deployed_phase_of_ci_requires_the_services_and_the_sqlite_phase_does_not():
    ci = (ROOT / ".ci" / "run").read_text()
    deployed, sqlite = ci.split('log "pytest on SQLite with eager Celery"')

    assert "PASSERELLE_REQUIRE_SERVICES=1" in deployed.rsplit('log "make test on PostgreSQL', 1)[1]
    assert "-u PASSERELLE_REQUIRE_SERVICES" in sqlite


def test_each_xdist_worker_has_its_own_redis_database():
    assert xdist_redis_url("redis://127.0.0.1:6379/0", "gw0") == "redis://127.0.0.1:6379/0"
    assert xdist_redis_url("redis://127.0.0.1:6379/8", "gw1") == "redis://127.0.0.1:6379/9"
    assert xdist_redis_url("redis://127.0.0.1:6379", "gw2") == "redis://127.0.0.1:6379/2"
    assert xdist_redis_url("redis://127.0.0.1:6379/6", "") == "redis://127.0.0.1:6379/6"
