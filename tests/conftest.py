import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests.scenes import Scene


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


def has_real_broker() -> bool:
    """CI's Redis broker and PostgreSQL, which the tests of real workers need."""
    return bool(os.environ.get("CELERY_BROKER_URL")) and connection.vendor == "postgresql"


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
    if not has_real_broker():
        pytest.skip(NO_REAL_BROKER)
    tasks_to_broker()
    with worker_thread():
        yield


def wait_for(probe: Callable[[], Any], what: str = "the worker to run the task", seconds: float = 60) -> Any:
    """Polls ``probe`` until it returns something true, and returns it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
