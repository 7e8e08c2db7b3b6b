# ruff: noqa: RUF003 - written with the signs × and ÷ of French arithmetic
"""The conditions of replication, worked out by hand: what a territory needed, its journal by
theme, and the weeks a site held no distribution."""

import datetime
from decimal import Decimal

import pytest

from costing import rollups
from evaluation.figures import monday
from evaluation.replication import cover_rows, journal_rows, needs_rows
from tests.factories import (
    AssociationCostFactory,
    AuthorityFactory,
    CoordinationCostFactory,
    JournalEntryFactory,
)
from tests.scenes import Scene

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
LAST_WEEK = monday(TODAY) - datetime.timedelta(days=7)


@pytest.fixture
def scene(db):
    scene = Scene()
    pickup = scene.pickup(scene.batch())
    from meals import services

    services.distribution_record(
        pickup=pickup, by=scene.volunteer, site=scene.site, distributed_on=TODAY, meals_distributed=100,
        beneficiaries=90, temperature_c=Decimal("2.5"),
    )  # fmt: skip
    rollups.rollup_territory_day(territory_id=scene.territory.pk, day=TODAY)
    return scene


def test_a_site_without_distribution_last_week_shows_a_gap_in_cover(scene):
    names = {scene.territory.pk: scene.territory.name}
    (row,) = cover_rows(territory_ids=[scene.territory.pk], start=LAST_WEEK, end=TODAY, names=names)
    assert (row["weeks"], row["weeks_covered"], row["weeks_without"]) == (2, 1, 1)
    assert row["gap_weeks"] == f"{LAST_WEEK:%d/%m}"


def test_what_the_territory_needed(scene):
    month = TODAY.replace(day=1)
    AssociationCostFactory(
        association=scene.partnership.association, month=month, volunteer_hours=Decimal("380")
    )
    authority = AuthorityFactory(territory=scene.territory)
    CoordinationCostFactory(authority=authority, month=month, staff_hours=Decimal("40"))
    names = {scene.territory.pk: scene.territory.name}
    (row,) = needs_rows(territory_ids=[scene.territory.pk], start=month, end=TODAY, names=names)
    assert row["vehicles"] == "Véhicule de l'association (1)"
    assert row["volunteer_hours"] == Decimal("380") and row["volunteer_hours_complete"]
    # 40 hours × 60 ÷ 100 meals distributed this month: 24 minutes of coordination per meal.
    assert row["coordination_minutes_per_meal"] == Decimal("24.0")


def test_without_hours_entered_they_are_unknown_not_zero(scene):
    names = {scene.territory.pk: scene.territory.name}
    (row,) = needs_rows(territory_ids=[scene.territory.pk], start=TODAY, end=TODAY, names=names)
    assert row["volunteer_hours"] is None and not row["volunteer_hours_complete"]
    assert row["coordination_minutes_per_meal"] is None and not row["coordination_complete"]


def test_the_journal_by_theme_and_nature_counts_what_funders_may_read(scene):
    for theme, nature, shared in (
        ("food_safety", "obstacle", True),
        ("food_safety", "decision", True),
        ("volunteers", "lever", False),
    ):
        JournalEntryFactory(
            territory=scene.territory,
            observed_on=TODAY,
            theme=theme,
            nature=nature,
            shared_with_funders=shared,
            title=f"{theme} {nature}",
        )
    rows = journal_rows(territory_ids=[scene.territory.pk], start=TODAY, end=TODAY, shared_only=False)
    assert [(row["theme"], row["obstacles"], row["levers"], row["decisions"]) for row in rows] == [
        ("Sécurité sanitaire", 1, 0, 1),
        ("Bénévoles", 0, 1, 0),
    ]
    shared = journal_rows(territory_ids=[scene.territory.pk], start=TODAY, end=TODAY, shared_only=True)
    assert [row["theme"] for row in shared] == ["Sécurité sanitaire"]
