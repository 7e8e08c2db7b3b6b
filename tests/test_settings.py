"""The settings module read from the environment, each case in a fresh interpreter."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.conftest import needs, redis_answers

BASE_DIR = Path(__file__).resolve().parent.parent
# Long and varied enough for check --deploy (security.W009); only ever used by these tests.
TEST_SECRET_KEY = "test-only-7Qm2vXr9LkP4sWz8NbT1yHc6GjD3fAe5-uR0oKi-x2Lp9Zs4"

PRINT_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
from config.celery import app
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "app_eager": app.conf.task_always_eager,
    "broker": app.conf.broker_url,
    "debug": settings.DEBUG,
    "cache": settings.CACHES["default"]["BACKEND"],
}))
"""


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any of the variables the settings read."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "CACHE_"))
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments, this interpreter
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_with(**env: str) -> dict:
    result = run(["-c", PRINT_SETTINGS], clean_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_environment_gives_sqlite_and_eager_celery():
    values = settings_with()

    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(BASE_DIR / "db.sqlite3")
    assert values["eager"] is True
    assert values["app_eager"] is True
    assert values["debug"] is True
    assert values["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_and_broker_urls_give_postgres_and_real_workers():
    values = settings_with(
        DATABASE_URL="postgres://passerelle:secret@db.internal:5432/passerelle",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
    )

    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "passerelle"
    assert values["eager"] is False
    assert values["app_eager"] is False
    assert values["broker"] == "redis://cache.internal:6379/0"


def test_production_settings_pass_the_deploy_check():
    env = clean_env(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=TEST_SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="passerelle.example",
    )

    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_a_secret_refuses_to_start():
    result = run(["-c", "import config.settings"], clean_env(DJANGO_DEBUG="false"))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


CACHE_SCRIPT = """
import sys
import django
django.setup()
from django.core.cache import cache
key = sys.argv[1]
if sys.argv[2] == "write":
    cache.set(key, "écrit par un autre processus", 60)
else:
    print(cache.get(key))
    cache.delete(key)
"""


def test_cache_url_gives_one_cache_to_every_process():
    """Rate limits and cached indicators hold across a deployment's web processes."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    needs(broker.startswith("redis://") and redis_answers(broker), "needs the Redis that CI provides")
    env = clean_env(CACHE_URL=broker.rsplit("/", 1)[0] + "/15")
    key = f"test-settings-{uuid.uuid4().hex}"

    written = run(["-c", CACHE_SCRIPT, key, "write"], env)
    read = run(["-c", CACHE_SCRIPT, key, "read"], env)

    assert written.returncode == 0, written.stderr
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == "écrit par un autre processus"
    assert settings_with(CACHE_URL="redis://cache.internal:6379/1")["cache"] == (
        "django.core.cache.backends.redis.RedisCache"
    )
