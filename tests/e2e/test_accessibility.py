"""Accessibility: axe-core on every main page, in the view of each role that uses it.

RGAA rests on WCAG 2.1 AA: a violation of impact "serious" or "critical" under the tags
wcag2a, wcag2aa, wcag21a and wcag21aa fails the test. Pages are listed per role in ``PAGES``;
a page added to the platform is added here, with the roles that use it (the evaluation pages
go under ``Role.EVALUATOR`` and the roles that see them). Each page is also saved as a
screenshot, ``test-results/screenshots/a11y-<role>-<page>.png``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from territories.roles import Role

from .conftest import BLOCKING_IMPACTS, PHONE, World, axe_violations, log_in, screenshot

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class MainPage:
    """A page as one role reaches it: its address, and what to do there first (a form sent
    with an error, to check the page in that state too)."""

    name: str
    path: Callable[[World], str]
    then: Callable[[Any], None] | None = None
    status: int = 200


def report_page(world: World, stage: str) -> str:
    return f"/rapports/{world.extra[f'report_{stage}'].pk}/"


def send_out_of_bounds_pickup(page: Any) -> None:
    page.get_by_label("Température à réception (°C)").fill("9")
    page.get_by_role("button", name="Confirmer la collecte").click()
    expect(page.get_by_role("alert")).to_be_visible()


def send_out_of_bounds_batch(page: Any) -> None:
    page.get_by_label("Nombre de repas").fill("80")
    page.get_by_label("Température au départ (°C)").fill("12")
    page.get_by_role("button", name="Enregistrer le lot").click()
    expect(page.get_by_role("alert")).to_be_visible()


def send_wrong_password(page: Any) -> None:
    page.locator("#id_username").fill("personne")
    page.locator("#id_password").fill("mauvais-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_be_visible()


def send_empty_form(page: Any) -> None:
    page.get_by_role("button", name="Enregistrer le questionnaire").click()
    expect(page.get_by_role("alert")).to_be_visible()


def send_unbalanced_distribution(page: Any) -> None:
    page.get_by_label("Personnes servies").fill("100")
    page.get_by_text("Des repas écartés ?").click()  # the disclosure, folded until needed
    page.get_by_label("Repas écartés").fill("5")
    page.get_by_role("button", name="Enregistrer la distribution").click()
    expect(page.get_by_role("alert")).to_be_visible()


def batch(world: World) -> str:
    return f"/lots/{world.ready.pk}/"


def territory(world: World) -> str:
    return f"/territoires/{world.territory.pk}/"


def kitchen(world: World) -> str:
    return f"/cuisines/{world.kitchen.pk}/"


def association(world: World) -> str:
    return f"/associations/{world.partnership.association_id}/"


def partnership(world: World) -> str:
    return f"/partenariats/{world.partnership.pk}/"


def territory_costs(world: World) -> str:
    return f"/territoires/{world.territory.pk}/couts/"


# Every role's main pages (the directories are shared by all roles).
DIRECTORIES = [
    MainPage("territory-list", lambda w: "/territoires/"),
    MainPage("territory-detail", territory),
    MainPage("kitchen-list", lambda w: "/cuisines/"),
    MainPage("kitchen-detail", kitchen),
    MainPage("association-list", lambda w: "/associations/"),
    MainPage("association-detail", association),
    MainPage("partnership-list", lambda w: "/partenariats/"),
    MainPage("partnership-detail", partnership),
]
PAGES: dict[str, list[MainPage]] = {
    ANONYMOUS: [
        MainPage("login", lambda w: "/connexion/"),
        MainPage("login-error", lambda w: "/connexion/", then=send_wrong_password),
        MainPage("sign-in-link-refused", lambda w: "/connexion/lien/999999/?sesame=x", status=403),
    ],
    Role.KITCHEN_MANAGER: [
        MainPage("kitchen-batches", lambda w: "/lots/mes-lots/"),
        MainPage("batch-week", lambda w: "/lots/"),
        MainPage("batch-create", lambda w: "/lots/nouveau/"),
        MainPage("batch-create-errors", lambda w: "/lots/nouveau/", then=send_out_of_bounds_batch),
        MainPage("batch-detail", batch),
        MainPage("404", lambda w: f"/lots/{w.other_batch.pk}/", status=404),
        MainPage("kitchen-cost-input", lambda w: f"/cuisines/{w.kitchen.pk}/couts/saisie/"),
        MainPage("offer-create", lambda w: "/offres/nouvelle/"),
        MainPage("offer-list", lambda w: "/offres/"),
        MainPage("territory-costs", territory_costs),
        *DIRECTORIES,
    ],
    Role.VOLUNTEER: [
        MainPage("pickup-todo", lambda w: "/collectes/"),
        MainPage("distribution-todo", lambda w: "/a-distribuer/"),
        MainPage("batch-pickup", lambda w: f"/lots/{w.ready.pk}/collecte/"),
        MainPage(
            "batch-pickup-errors", lambda w: f"/lots/{w.ready.pk}/collecte/", then=send_out_of_bounds_pickup
        ),
        MainPage("distribution-create", lambda w: f"/collectes/{w.picked.pickup.pk}/distribution/"),
        MainPage(
            "distribution-create-errors",
            lambda w: f"/collectes/{w.picked.pickup.pk}/distribution/",
            then=send_unbalanced_distribution,
        ),
        MainPage("batch-detail", lambda w: f"/lots/{w.done.pk}/"),
        MainPage("batch-week", lambda w: "/lots/"),
        MainPage("403", lambda w: "/lots/nouveau/", status=403),
        MainPage("round-slot-list", lambda w: "/tournees/"),
        MainPage("calendar-settings", lambda w: "/compte/agenda/"),
        *DIRECTORIES,
    ],
    Role.ASSOCIATION_COORDINATOR: [
        MainPage("flow-week", lambda w: "/flux/"),
        MainPage("pickup-todo", lambda w: "/collectes/"),
        MainPage("distribution-todo", lambda w: "/a-distribuer/"),
        MainPage("batch-detail", lambda w: f"/lots/{w.picked.pk}/"),
        MainPage("association-detail", association),
        MainPage(
            "association-cost-input", lambda w: f"/associations/{w.partnership.association_id}/couts/saisie/"
        ),
        MainPage("territory-costs", territory_costs),
        MainPage("volunteer-list", lambda w: "/benevoles/"),
        MainPage("round-slot-list", lambda w: "/tournees/"),
    ],
    Role.AUTHORITY_COORDINATOR: [
        MainPage("flow-week", lambda w: "/flux/"),
        MainPage("batch-week", lambda w: "/lots/"),
        MainPage("batch-detail", lambda w: f"/lots/{w.done.pk}/"),
        MainPage("territory-costs", territory_costs),
        MainPage("coordination-cost-input", lambda w: f"{territory_costs(w)}coordination/"),
        MainPage("transport-rate-input", lambda w: f"{territory_costs(w)}transport/"),
        MainPage("territory-dashboard", lambda w: f"/territoires/{w.territory.pk}/tableau-de-bord/"),
        MainPage("journal-list", lambda w: "/journal/"),
        MainPage("journal-create", lambda w: "/journal/nouveau/"),
        MainPage("record-import", lambda w: f"/territoires/{w.territory.pk}/import/"),
        MainPage("volunteer-list", lambda w: "/benevoles/"),
        *DIRECTORIES,
    ],
    Role.EVALUATOR: [
        MainPage("flow-week", lambda w: "/flux/"),
        MainPage("batch-week", lambda w: "/lots/"),
        MainPage("batch-detail", lambda w: f"/lots/{w.done.pk}/"),
        MainPage("territory-costs", territory_costs),
        MainPage("territory-dashboard", lambda w: f"/territoires/{w.territory.pk}/tableau-de-bord/"),
        MainPage("territory-comparison", lambda w: "/evaluation/comparaison/"),
        MainPage("territory-reports", lambda w: f"/territoires/{w.territory.pk}/rapports/"),
        MainPage("report-list", lambda w: "/rapports/"),
        MainPage("report-detail-running", lambda w: report_page(w, "running")),
        MainPage("report-detail-done", lambda w: report_page(w, "done")),
        MainPage("report-detail-failed", lambda w: report_page(w, "failed")),
        MainPage("journal-list", lambda w: "/journal/"),
        MainPage("journal-create", lambda w: "/journal/nouveau/"),
        MainPage("survey-list", lambda w: "/questionnaires/"),
        MainPage("survey-create", lambda w: "/questionnaires/nouveau/"),
        MainPage("survey-create-errors", lambda w: "/questionnaires/nouveau/", then=send_empty_form),
        *DIRECTORIES,
    ],
}
# Phones first: volunteers collect and distribute from the kitchen's door.
VIEWPORTS = {Role.VOLUNTEER: PHONE}


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']} — {targets}")
    return "\n".join(lines)


def test_every_role_has_pages_to_scan():
    assert sum(len(pages) for pages in PAGES.values()) >= 40
    for pages in PAGES.values():
        names = [page.name for page in pages]
        assert len(names) == len(set(names)), names


def test_axe_finds_what_it_should(new_page, axe_source):
    """The harness itself: axe runs and reports a known serious violation (a guard against a
    scan that silently checks nothing)."""
    page = new_page()
    page.set_content(
        '<html lang="fr"><head><title>Essai</title></head><body><main>'
        '<input type="text"><p style="color:#bbb;background:#fff">Texte pâle</p></main></body></html>'
    )
    found = {violation["id"]: violation["impact"] for violation in axe_violations(page, axe_source)}
    assert found.get("label") == "critical", found
    assert found.get("color-contrast") == "serious", found


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_have_no_serious_accessibility_violation(new_page, world: World, axe_source, role):
    viewport = VIEWPORTS.get(role)
    page = new_page(viewport=viewport) if viewport else new_page()
    if role != ANONYMOUS:
        log_in(page, world.users[role])
    blocking: list[str] = []
    for main_page in PAGES[role]:
        response = page.goto(main_page.path(world))
        assert response is not None and response.status == main_page.status, (main_page.name, response)
        if main_page.then:
            main_page.then(page)
        violations = axe_violations(page, axe_source)
        screenshot(page, f"a11y-{role}-{main_page.name}")
        serious = [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]
        if serious:
            blocking.append(f"{main_page.name} ({page.url}):\n{describe(serious)}")
    assert not blocking, f"axe-core, {role}:\n" + "\n".join(blocking)
