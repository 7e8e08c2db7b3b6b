import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests.scenes import Scene

# CI's deployed phase sets it: a test whose PostgreSQL, Redis or worker is missing fails there
# instead of skipping, so CI cannot lose it unnoticed.
REQUIRE_SERVICES = os.environ.get("PASSERELLE_REQUIRE_SERVICES", "").strip() == "1"


def needs(available: bool, reason: str) -> None:
    """Skips the test when a service it needs (PostgreSQL, Redis, a worker) is missing, or fails
    it under ``PASSERELLE_REQUIRE_SERVICES=1``."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (PASSERELLE_REQUIRE_SERVICES=1: it must run here)", pytrace=False)
    pytest.skip(reason)


def needs_postgresql(reason: str) -> None:
    needs(connection.vendor == "postgresql", reason)


def xdist_redis_url(url: str, worker: str) -> str:
    """Under pytest-xdist, worker ``gwN`` uses the Redis database N places after the one ``url``
    names (``-n 2`` on ``redis://host/0`` uses databases 0 and 1): each worker has its own queue
    and cache, which the tests empty."""
    match = re.fullmatch(r"(redis://[^/]*)(?:/(\d*))?", url)
    if not match or not worker.startswith("gw"):
        return url
    return f"{match[1]}/{int(match[2] or 0) + int(worker[2:])}"


def _one_redis_database_per_xdist_worker() -> None:
    """Before any task is sent or the cache used: this process, the worker threads and the worker
    processes the tests start (they inherit the environment) share this worker's databases."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        if url := os.environ.get(name):
            os.environ[name] = xdist_redis_url(url, worker)
    if broker := os.environ.get("CELERY_BROKER_URL"):
        django_settings.CELERY_BROKER_URL = broker
        celery_app.conf.broker_url = broker
    if django_settings.CACHE_URL and (cache_url := os.environ.get("CACHE_URL")):
        django_settings.CACHES["default"]["LOCATION"] = cache_url


_one_redis_database_per_xdist_worker()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the site's language: the test client leaves the language of its last
    request (an English page) active in the thread, which the next test would inherit."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; ids are reused between tests on SQLite."""
    cache.clear()


@pytest.fixture(autouse=True)
def _eager_tasks():
    """Tasks run in-process in tests; the tests of the real worker switch this off themselves."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def scene(db):
    return Scene()


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def has_real_broker() -> bool:
    """CI's Redis broker (set and answering) and PostgreSQL, which the tests of real workers need."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    return connection.vendor == "postgresql" and broker.startswith("redis://") and redis_answers(broker)


NO_REAL_BROKER = "needs the Redis broker and PostgreSQL that CI provides"


def tasks_to_broker() -> None:
    """From here on, this process's tasks go to the (emptied) Redis queue, not in-process; the
    autouse ``_eager_tasks`` fixture sets that back after the test."""
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()


def worker_thread() -> Any:
    """A context: a Celery worker thread of this process, consuming from the Redis broker and
    writing to the test database (use with ``transaction=True``)."""
    return start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30)


@pytest.fixture
def real_worker() -> Iterator[None]:
    """Tasks leave the test the way they leave a view, to a worker thread through Redis."""
    needs(has_real_broker(), NO_REAL_BROKER)
    tasks_to_broker()
    with worker_thread():
        yield


@pytest.fixture
def task_runner() -> Iterator[str]:
    """The test's tasks run where they run in production: on a worker thread through Redis when
    CI's broker and PostgreSQL are there (required under ``PASSERELLE_REQUIRE_SERVICES=1``),
    in-process otherwise. Yields which; use with ``transaction=True`` and ``wait_for``."""
    if not has_real_broker():
        if REQUIRE_SERVICES:
            needs(False, NO_REAL_BROKER)
        yield "in-process"
        return
    tasks_to_broker()
    with worker_thread():
        yield "worker"


def wait_for(probe: Callable[[], Any], what: str = "the worker to run the task", seconds: float = 60) -> Any:
    """Polls ``probe`` until it returns something true, and returns it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
