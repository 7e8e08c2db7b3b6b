"""Browser end-to-end tests: Playwright (sync API) driving Debian's Chromium against a live
server on 127.0.0.1, with axe-core injected for the accessibility checks.

Setup (``make e2e-deps``, which ``make test`` runs): ``apt-get install chromium`` and
``npm ci --prefix tests/e2e`` (axe-core, pinned by tests/e2e/package-lock.json). Without
Chromium the tests are skipped with the reason, except under CI (``CI=true``) where they fail.
Screenshots go to ``test-results/screenshots/`` (git-ignored); when a test fails, each page it
had open is saved under ``test-results/failures/`` (which CI prints at the end).
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop in the test's thread; the test's own ORM calls
# (building data, checking the database) are synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# pytest-django's live server listens here (read when the session's live server starts).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PASSERELLE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-results" / "screenshots"
FAILURES = ROOT / "test-results" / "failures"
PASSWORD = "passerelle-test"  # tests.factories.UserFactory's
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """A missing browser dependency skips the test on a developer's machine and fails it in CI."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the e2e tests must run; `make e2e-deps` installs it)")
    pytest.skip(f"{reason}: run `make e2e-deps` (as root) to install it")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        require(False, "the playwright package is not installed")
        raise
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    require(AXE_JS.exists(), f"axe-core is not installed ({AXE_JS.relative_to(ROOT)} is missing)")
    return AXE_JS.read_text(encoding="utf-8")


OUTCOMES = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """Keeps each phase's report on the test, for ``new_page`` to see whether it failed."""
    report = yield
    item.stash.setdefault(OUTCOMES, {})[report.when] = report
    return report


def save_failure_screenshots(test_name: str, contexts: list[Any]) -> None:
    """Every page still open in a failed test, as the user last saw it."""
    FAILURES.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9]+", "-", test_name).strip("-")
    pages = [page for context in contexts for page in context.pages]
    for number, page in enumerate(pages, start=1):
        try:
            page.screenshot(path=str(FAILURES / f"{stem}-{number}.png"), full_page=True)
        except Exception as error:  # a crashed page must not hide the test's own failure
            print(f"no screenshot of page {number} of {test_name}: {error}")


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport=PHONE)``: a page in a fresh browser context (its own cookies) on the
    live server; relative URLs resolve against it. When the test fails, its open pages are saved
    under test-results/failures/."""
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport,
            locale="fr-FR",
            timezone_id="Europe/Paris",
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    outcomes = request.node.stash.get(OUTCOMES, {})
    if any(report.failed for report in outcomes.values()):
        save_failure_screenshots(request.node.nodeid, contexts)
    for context in contexts:
        context.close()


def log_in(page: Any, user: Any) -> None:
    """Through the real login form (django-axes counts the attempts there)."""
    page.goto("/connexion/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def screenshot(page: Any, name: str) -> Path:
    """Saves the whole page under test-results/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# WCAG 2.1 A and AA, on which RGAA rests.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """Runs axe-core on the page and returns its WCAG 2.1 AA violations (all impacts).

    The site's CSP allows no inline script, so axe is not added as a <script> tag: the
    source is evaluated through the DevTools protocol, which the page's CSP does not govern."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(
        """async (tags) => {
            const results = await window.axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations"],
            });
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )


# The data the browser tests meet: territory A with every role and batches at each step of the
# flow, and territory B beside it.


@dataclass
class World:
    territory: Any
    partnership: Any
    kitchen: Any
    site: Any
    users: dict[str, Any]
    ready: Any  # a batch ready to collect
    picked: Any  # a batch picked up, nothing distributed yet
    done: Any  # a batch picked up and distributed
    other_territory: Any
    other_batch: Any
    other_kitchen: Any
    extra: dict[str, Any] = field(default_factory=dict)


def build_world() -> World:
    from territories.roles import Role
    from tests.factories import ReportFactory, flow, member
    from tests.scenes import Scene

    home, other = Scene(), Scene()
    yesterday = home.today - datetime.timedelta(days=1)
    done, _, _ = flow(
        home.partnership, kitchen_user=home.kitchen_user, volunteer=home.volunteer, site=home.site
    )
    picked = home.batch(lot_number="L-COLLECTE", production_date=yesterday)
    home.pickup(picked)
    ready = home.batch(lot_number="L-PRET")
    other_batch = other.batch(lot_number="L-AUTRE")
    territory = home.territory
    users = {
        Role.KITCHEN_MANAGER: home.kitchen_user,
        Role.VOLUNTEER: home.volunteer,
        Role.ASSOCIATION_COORDINATOR: member(
            Role.ASSOCIATION_COORDINATOR, territory, association=home.partnership.association
        ),
        Role.AUTHORITY_COORDINATOR: member(Role.AUTHORITY_COORDINATOR, territory),
        Role.EVALUATOR: member(Role.EVALUATOR),
        Role.FUNDER: member(Role.FUNDER, funded=[territory]),
    }
    # A report at each stage of its build, for the report's status page.
    evaluator = users[Role.EVALUATOR]
    reports = {
        "report_done": ReportFactory(territory=territory, requested_by=evaluator),
        "report_running": ReportFactory(
            territory=territory, requested_by=evaluator, status="running", progress=40, figures={}, pdf=""
        ),
        "report_failed": ReportFactory(
            territory=territory,
            requested_by=evaluator,
            status="failed",
            progress=60,
            figures={},
            pdf="",
            message="La construction du rapport a échoué (OSError : disque plein). Aucune donnée n'a été "
            "modifiée : vous pouvez relancer le rapport.",
        ),
    }
    return World(
        territory=territory,
        partnership=home.partnership,
        kitchen=home.partnership.kitchen,
        site=home.site,
        users=users,
        ready=ready,
        picked=picked,
        done=done,
        other_territory=other.territory,
        other_batch=other_batch,
        other_kitchen=other.partnership.kitchen,
        extra=reports,
    )


@pytest.fixture
def world(transactional_db) -> World:
    return build_world()
