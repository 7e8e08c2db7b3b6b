"""The meal flow in a real browser, as the people who use it: a kitchen manager declares a batch,
a volunteer on a phone collects and distributes it, the coordinators find it in the week's flow,
and the evaluator follows it into the dashboard and a DRIHL report. Then the cold-chain rule
through the form, another territory's pages, and the pickup form completed with the keyboard
alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from meals.models import Batch, Distribution, Pickup
from territories.roles import Role
from tests.conftest import has_real_broker, tasks_to_broker, worker_thread

from .conftest import PHONE, World, log_in, screenshot

LOT = "L-E2E-01"


def heading(page: Any) -> Any:
    return page.get_by_role("heading", level=1)


def nav_link(page: Any, name: str) -> Any:
    return page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name=name)


def test_a_batch_goes_from_the_kitchen_to_the_week_flow(new_page, world: World):
    # The kitchen manager declares the batch: only the count, the temperature and the lot are typed.
    kitchen = new_page()
    log_in(kitchen, world.users[Role.KITCHEN_MANAGER])
    # The kitchen manager's day starts on the declaration; the menu leads back to it.
    expect(heading(kitchen)).to_have_text("Déclarer un lot")
    nav_link(kitchen, "Déclarer un lot").click()
    expect(heading(kitchen)).to_have_text("Déclarer un lot")
    kitchen.get_by_label("Nombre de repas").fill("140")
    kitchen.get_by_label("Température au départ (°C)").fill("2,5")
    kitchen.get_by_label("Numéro de lot").fill(LOT)
    screenshot(kitchen, "kitchen-manager-batch-create")
    kitchen.get_by_role("button", name="Enregistrer le lot").click()
    expect(kitchen.locator(".messages")).to_contain_text(f"Lot {LOT} déclaré : 140 repas prêts à collecter.")
    screenshot(kitchen, "kitchen-manager-batch-detail")
    batch = Batch.objects.get(lot_number=LOT)
    assert (batch.status, batch.meals_count, batch.dispatch_temperature_c) == ("ready", 140, Decimal("2.5"))

    # The volunteer, on a phone, finds it under "À collecter" and confirms the pickup.
    phone = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(phone, world.users[Role.VOLUNTEER])
    expect(heading(phone)).to_have_text("À collecter")
    card = phone.locator(".card").filter(has_text=LOT)
    expect(card).to_contain_text("140 repas")
    screenshot(phone, "volunteer-pickup-todo")
    card.get_by_role("link", name=re.compile("^Confirmer la collecte")).click()
    expect(heading(phone)).to_have_text("Confirmer la collecte")
    phone.get_by_label("Température à réception (°C)").fill("2,8")
    # The trip is prefilled from the last pickup and folded; opened here to change it.
    phone.locator("#transport summary").click()
    phone.get_by_label("Véhicule de l'association").check()
    phone.get_by_label("Véhicule réfrigéré").check()
    screenshot(phone, "volunteer-batch-pickup")
    phone.get_by_role("button", name="Confirmer la collecte").click()
    expect(phone.locator(".messages")).to_contain_text("Collecte confirmée : 140 repas reçus.")
    pickup = Pickup.objects.get(batch=batch)
    assert (pickup.temperature_c, pickup.refrigerated_vehicle) == (Decimal("2.8"), True)

    # ... and records the distribution: the site and the count are prefilled.
    phone.get_by_role("link", name="Enregistrer une distribution").click()
    expect(heading(phone)).to_have_text("Enregistrer une distribution")
    phone.get_by_label("Personnes servies").fill("120")
    phone.get_by_label("Température à la distribution (°C)").fill("2,6")
    screenshot(phone, "volunteer-distribution-create")
    phone.get_by_role("button", name="Enregistrer la distribution").click()
    expect(phone.locator(".messages")).to_contain_text(
        "Distribution enregistrée : 140 repas distribués à 120 personnes."
    )
    screenshot(phone, "volunteer-batch-detail-distributed")
    distribution = Distribution.objects.get(batch=batch)
    assert (distribution.meals_distributed, distribution.beneficiaries) == (140, 120)
    assert distribution.temperature_c == Decimal("2.6")
    batch.refresh_from_db()
    assert batch.status == "distributed"

    # The coordinators see it in the week's flow, with what became of its meals.
    for role in (Role.ASSOCIATION_COORDINATOR, Role.AUTHORITY_COORDINATOR):
        page = new_page()
        log_in(page, world.users[role])
        nav_link(page, "Flux de la semaine").click()
        expect(heading(page)).to_contain_text("Flux de la semaine")
        row = page.get_by_role("row").filter(has_text=LOT)
        expect(row).to_contain_text("140")
        expect(row).to_contain_text("120")
        screenshot(page, f"{role}-flow-week")

    evaluator_follows_up(new_page, world)


def evaluator_follows_up(new_page: Any, world: World) -> None:
    """The evaluator finds the batch in the week's flow, opens the territory's dashboard for this
    month, asks for the DRIHL report, watches its progress and downloads the PDF.

    With the Redis broker of CI the report is built by a real Celery worker, started only once
    the page shows the build waiting, so the progress is seen before the end; without a broker
    (the SQLite run) the build runs within the request and the page opens on the finished report.
    """
    page = new_page()
    log_in(page, world.users[Role.EVALUATOR])
    nav_link(page, "Flux de la semaine").click()
    row = page.get_by_role("row").filter(has_text=LOT)
    expect(row).to_contain_text(world.territory.name)
    screenshot(page, "evaluator-flow-week")

    today = timezone.localdate()
    page.goto(f"/territoires/{world.territory.pk}/")
    page.get_by_role("link", name="Tableau de bord").click()
    expect(heading(page)).to_have_text("Tableau de bord")
    page.get_by_label("Du", exact=True).fill(today.replace(day=1).isoformat())
    page.get_by_label("Au (inclus)", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Afficher").click()
    distributed = Distribution.objects.filter(
        territory=world.territory, distributed_on__range=(today.replace(day=1), today)
    ).aggregate(total=Sum("meals_distributed"))["total"]
    assert distributed >= 140
    headline = page.locator(".headline div").filter(has=page.get_by_text("Repas distribués", exact=True))
    expect(headline.locator("dd")).to_have_text(re.compile(rf"^{distributed:,}$".replace(",", r"\s?")))
    screenshot(page, "evaluator-territory-dashboard")

    page.locator("main").get_by_role("link", name="Rapports", exact=True).click()
    expect(heading(page)).to_contain_text("Rapports")
    page.get_by_label("Type de rapport").select_option(label="Rapport d'activité DRIHL (France Relance)")
    page.get_by_label("Du", exact=True).fill(today.replace(day=1).isoformat())
    page.get_by_label("Au (inclus)", exact=True).fill(today.isoformat())
    with worker_started_when_asked() as start_worker:
        page.get_by_role("button", name="Demander le rapport").click()
        # The request goes straight to the report's own page, which tells its one status.
        expect(heading(page)).to_have_text("Rapport d'activité DRIHL (France Relance)")
        if start_worker:
            expect(page.get_by_role("status").locator("label")).to_have_text("Avancement : 0 %")
            expect(page.locator("progress")).to_be_visible()
            screenshot(page, "evaluator-report-progress")
            start_worker()
        # The page follows the build by itself and shows the finished report.
        expect(page.get_by_text("Rapport prêt depuis le")).to_be_visible(timeout=90_000)
    screenshot(page, "evaluator-report-done")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le PDF").click()
    path = download.value.path()
    text = " ".join(p.extract_text() for p in PdfReader(str(path)).pages)
    assert world.territory.name in text
    assert download.value.suggested_filename.endswith(".pdf")


@contextmanager
def worker_started_when_asked() -> Iterator[Callable[[], None] | None]:
    """With a broker: tasks go to Redis, and the yielded function starts a worker thread that
    runs them (stopped on exit). Without one: tasks run in-process and None is yielded."""
    if not has_real_broker():
        yield None
        return
    tasks_to_broker()
    with ExitStack() as stack:
        yield lambda: stack.enter_context(worker_thread())


def test_an_out_of_bounds_temperature_is_refused_in_french_and_nothing_is_saved(new_page, world: World):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, world.users[Role.VOLUNTEER])
    page.goto(f"/lots/{world.ready.pk}/collecte/")
    page.get_by_label("Température à réception (°C)").fill("9")
    page.get_by_role("button", name="Confirmer la collecte").click()

    temperature = page.get_by_label("Température à réception (°C)")
    field = page.locator(".field").filter(has=page.locator("#id_temperature_c"))
    message = "Un repas en liaison froide doit être à +3 °C ou moins."
    expect(field.locator("#id_temperature_c_error")).to_contain_text(message)
    expect(temperature).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Rien n'a été enregistré")
    screenshot(page, "volunteer-batch-pickup-temperature-error")

    assert not Pickup.objects.filter(batch=world.ready).exists()
    world.ready.refresh_from_db()
    assert world.ready.status == "ready"


def test_another_territorys_pages_answer_the_404_page(new_page, world: World):
    page = new_page()
    log_in(page, world.users[Role.KITCHEN_MANAGER])
    for path in (f"/lots/{world.other_batch.pk}/", f"/cuisines/{world.other_kitchen.pk}/"):
        response = page.goto(path)  # an address pasted in the address bar
        assert response is not None and response.status == 404, path
        expect(heading(page)).to_have_text("Page introuvable")
        expect(page.locator("main")).not_to_contain_text(world.other_batch.lot_number)
        expect(page.locator("main")).not_to_contain_text(world.other_kitchen.name)
    screenshot(page, "kitchen-manager-404")


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Presses Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_the_pickup_form_is_completed_with_the_keyboard_alone(new_page, world: World):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    # Logging in with the keyboard as well: type, Tab, Enter.
    page.goto("/connexion/")
    tab_to(page, "#id_username")
    page.keyboard.type(world.users[Role.VOLUNTEER].username)
    tab_to(page, "#id_password")
    page.keyboard.type("passerelle-test")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/collectes/$"))

    page.goto(f"/lots/{world.ready.pk}/collecte/")
    tab_to(page, "#id_meals_received")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("148")
    # Two meals short of the batch: the reason, in the disclosure that opens with Enter.
    tab_to(page, "#ecart-quantite summary")
    page.keyboard.press("Enter")
    tab_to(page, "input[name=shortfall_reason]")
    page.keyboard.press("ArrowDown")  # from "Aucun écart" to "Emballage endommagé"
    tab_to(page, "#id_temperature_c")
    page.keyboard.type("1,5")
    # The trip, prefilled from the last pickup, is folded: Enter opens it.
    tab_to(page, "#transport summary")
    page.keyboard.press("Enter")
    tab_to(page, "input[name=transport_mode]")
    page.keyboard.press("ArrowDown")  # the next transport mode of the radio group
    tab_to(page, "#id_refrigerated_vehicle")
    page.keyboard.press("Space")
    tab_to(page, "#id_distance_km")
    page.keyboard.type("3,5")
    tab_to(page, "#id_duration_minutes")
    page.keyboard.type("20")
    tab_to(page, ".form-actions button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.locator(".messages")).to_contain_text("Collecte confirmée : 148 repas reçus.")
    pickup = Pickup.objects.get(batch=world.ready)
    assert pickup.meals_received == 148
    assert pickup.shortfall_reason == "damaged_packaging"
    assert pickup.temperature_c == Decimal("1.5")
    assert pickup.transport_mode == "kitchen_delivery"
    assert pickup.distance_km == Decimal("3.5")
    assert pickup.duration_minutes == 20
