"""A volunteer's day on a 390 x 844 phone: each page's first action is on the first screen, the
menu opens behind one button (without JavaScript, with the keyboard), the language switch is in
the footer, and a batch goes from "À collecter" to "À distribuer" and out, without the week's
list of batches. The new pages pass axe-core with no violation at all, in French and English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from territories.roles import Role

from .conftest import DESKTOP, World, axe_violations, log_in, screenshot

PHONE_390 = {"width": 390, "height": 844}
FOLD = 844


def phone(new_page: Any, **options: Any) -> Any:
    return new_page(viewport=PHONE_390, is_mobile=True, has_touch=True, **options)


def heading(page: Any) -> Any:
    return page.get_by_role("heading", level=1)


def above_the_fold(page: Any, locator: Any) -> None:
    """The element's box lies within the first 844 pixels of the page, scrolled to the top."""
    page.evaluate("() => window.scrollTo(0, 0)")
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= FOLD, box


# Each volunteer page and its first action.
VOLUNTEER_PAGES = [
    (
        "pickup-todo",
        lambda w: "/collectes/",
        lambda p: p.get_by_role("link", name=re.compile("^Confirmer la collecte")).first,
    ),
    (
        "distribution-todo",
        lambda w: "/a-distribuer/",
        lambda p: p.get_by_role("link", name=re.compile("^Enregistrer une distribution")).first,
    ),
    (
        "batch-detail",
        lambda w: f"/lots/{w.picked.pk}/",
        lambda p: p.get_by_role("link", name="Enregistrer une distribution"),
    ),
    (
        "batch-pickup",
        lambda w: f"/lots/{w.ready.pk}/collecte/",
        lambda p: p.get_by_role("button", name="Confirmer la collecte"),
    ),
    (
        "distribution-create",
        lambda w: f"/collectes/{w.picked.pickup.pk}/distribution/",
        lambda p: p.get_by_role("button", name="Enregistrer la distribution"),
    ),
]


@pytest.mark.parametrize(("name", "path", "action"), VOLUNTEER_PAGES, ids=[p[0] for p in VOLUNTEER_PAGES])
def test_each_volunteer_pages_first_action_is_on_the_first_screen(new_page, world: World, name, path, action):
    page = phone(new_page)
    log_in(page, world.users[Role.VOLUNTEER])
    page.goto(path(world))
    screenshot(page, f"phone-390-{name}")
    above_the_fold(page, action(page))


def test_the_menu_opens_behind_one_button_with_the_keyboard_and_without_javascript(new_page, world: World):
    page = phone(new_page, java_script_enabled=False)
    log_in(page, world.users[Role.VOLUNTEER])
    button = page.locator("summary.site-menu-button")
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(button).to_have_text("Menu")
    expect(nav).to_be_hidden()
    # The header is one short row: the name and the button.
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 64, header
    button.focus()
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    expect(page.locator("details.site-menu")).to_have_attribute("open", "")
    expect(nav.get_by_role("link", name="À collecter")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    screenshot(page, "phone-390-menu-open")
    page.keyboard.press("Enter")
    expect(nav).to_be_hidden()
    # The language switch is in the footer.
    expect(page.locator("footer").get_by_label("Langue")).to_be_visible()
    expect(page.locator("header").get_by_label("Langue")).to_have_count(0)


def test_on_a_wide_screen_the_menu_is_always_shown(new_page, world: World):
    page = new_page(viewport=DESKTOP)
    log_in(page, world.users[Role.AUTHORITY_COORDINATOR])
    expect(page.locator("summary.site-menu-button")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="Flux de la semaine")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    screenshot(page, "desktop-menu")


def test_a_volunteer_collects_then_distributes_without_the_weeks_list(new_page, world: World):
    """From "À collecter" to "À distribuer" and out, through the menu: the week's list of
    batches (/lots/) is never opened."""
    page = phone(new_page)
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)
    log_in(page, world.users[Role.VOLUNTEER])
    expect(heading(page)).to_have_text("À collecter")
    lot = world.ready.lot_number
    page.locator(".card").filter(has_text=lot).get_by_role(
        "link", name=re.compile("^Confirmer la collecte")
    ).click()
    page.get_by_label("Température à réception (°C)").fill("2,8")
    page.get_by_role("button", name="Confirmer la collecte").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Collecte confirmée : {world.ready.meals_count} repas reçus."
    )

    page.locator("summary.site-menu-button").click()
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="À distribuer"
    ).click()
    expect(heading(page)).to_have_text("À distribuer")
    card = page.locator(".card").filter(has_text=lot)
    expect(card).to_contain_text(f"{world.ready.meals_count} repas à distribuer")
    screenshot(page, "phone-390-distribution-todo")
    card.get_by_role("link", name=re.compile("^Enregistrer une distribution")).click()
    above_the_fold(page, page.get_by_role("button", name="Enregistrer la distribution"))
    page.get_by_label("Personnes servies").fill("120")
    page.get_by_label(re.compile(r"^Température à la distribution")).fill("2,6")
    page.get_by_role("button", name="Enregistrer la distribution").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Distribution enregistrée : {world.ready.meals_count} repas distribués à 120 personnes."
    )
    expect(heading(page)).to_have_text("À distribuer")
    expect(page.locator(".card").filter(has_text=lot)).to_have_count(0)

    world.ready.refresh_from_db()
    assert world.ready.status == "distributed"
    assert not [url for url in visited if url.rstrip("/").endswith("/lots")], visited


def switch_to_english(page: Any) -> None:
    footer = page.locator("footer")
    footer.get_by_label("Langue").select_option("en")
    footer.get_by_role("button", name="Changer").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


# The pages this change made or reshaped, each with its state: none may have any violation.
NEW_PAGES = [
    ("pickup-todo", lambda w: "/collectes/", None),
    ("distribution-todo", lambda w: "/a-distribuer/", None),
    ("batch-pickup", lambda w: f"/lots/{w.ready.pk}/collecte/", None),
    ("distribution-create", lambda w: f"/collectes/{w.picked.pickup.pk}/distribution/", None),
    ("menu-open", lambda w: "/a-distribuer/", lambda p: p.locator("summary.site-menu-button").click()),
]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_new_pages_have_no_accessibility_violation_in_both_languages(
    new_page, world: World, axe_source, language
):
    page = phone(new_page)
    log_in(page, world.users[Role.VOLUNTEER])
    if language == "en":
        switch_to_english(page)
    found: list[str] = []
    for name, path, then in NEW_PAGES:
        response = page.goto(path(world))
        assert response is not None and response.status == 200, name
        if then:
            then(page)
        violations = axe_violations(page, axe_source)
        screenshot(page, f"a11y-phone-{language}-{name}")
        found += [f"{name}: {v['id']} ({v['impact']}) {v['nodes'][:2]}" for v in violations]
    desktop = new_page(viewport=DESKTOP)
    log_in(desktop, world.users[Role.AUTHORITY_COORDINATOR])
    if language == "en":
        switch_to_english(desktop)
    found += [f"desktop menu: {v['id']} ({v['impact']})" for v in axe_violations(desktop, axe_source)]
    assert not found, "\n".join(found)
