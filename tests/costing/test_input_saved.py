"""What saving a monthly cost input sets off (``costing.services.cost_input_saved``): the month's
figures refreshed once the write commits, and, for a transport rate, the month's days marked for a
rebuild of their roll-ups; a month too far ahead is refused before anything is set off."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from costing import services
from costing.models import MonthlyCost, StaleDay
from territories.bounds import years_from
from tests.factories import DailyRollupFactory, TerritoryFactory

FEBRUARY = datetime.date(2025, 2, 1)


def stale_days(territory):
    return set(StaleDay.objects.all_territories().filter(territory=territory).values_list("day", flat=True))


def refreshed(territory):
    return list(
        MonthlyCost.objects.all_territories().filter(territory=territory).values_list("month", flat=True)
    )


def test_an_input_refreshes_its_months_figures_once_the_write_commits(db, django_capture_on_commit_callbacks):
    territory = TerritoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.cost_input_saved(territory_id=territory.pk, month=FEBRUARY)
        assert refreshed(territory) == []
        # Only a transport rate changes the cost of the pickups: no day marked for a rebuild.
        assert stale_days(territory) == set()
    assert refreshed(territory) == [FEBRUARY]


def test_a_transport_rate_marks_each_day_of_its_month_up_to_today(db):
    territory = TerritoryFactory()
    services.cost_input_saved(territory_id=territory.pk, month=FEBRUARY, transport=True)
    assert stale_days(territory) == {FEBRUARY + datetime.timedelta(days=n) for n in range(28)}
    current = TerritoryFactory()
    today = timezone.localdate()
    services.cost_input_saved(territory_id=current.pk, month=today.replace(day=1), transport=True)
    assert stale_days(current) == {today.replace(day=day) for day in range(1, today.day + 1)}
    ahead = TerritoryFactory()
    services.cost_input_saved(
        territory_id=ahead.pk,
        month=services.last_of_month(today) + datetime.timedelta(days=1),
        transport=True,
    )
    assert stale_days(ahead) == set()


def test_an_input_more_than_a_year_ahead_is_refused_before_anything_is_set_off(
    db, django_capture_on_commit_callbacks
):
    territory = TerritoryFactory()
    last = years_from(timezone.localdate(), 1)
    too_far = services.last_of_month(last) + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as refused:
        services.cost_input_saved(territory_id=territory.pk, month=too_far, transport=True)
    assert refused.value.message_dict == {"month": [f"Date trop lointaine : pas après le {last:%d/%m/%Y}."]}
    assert refreshed(territory) == []
    # The month of the last day allowed is accepted.
    with django_capture_on_commit_callbacks(execute=True):
        services.cost_input_saved(territory_id=territory.pk, month=last.replace(day=1))
    assert refreshed(territory) == [last.replace(day=1)]


def test_a_months_refresh_reads_its_own_territory_only(db):
    mine = DailyRollupFactory(day=datetime.date(2025, 2, 10), meals_distributed=120, people_served=90)
    DailyRollupFactory(day=datetime.date(2025, 2, 11), meals_distributed=5000, people_served=4000)
    row = services.monthly_cost_refresh(territory_id=mine.territory_id, month=datetime.date(2025, 2, 20))
    assert (row.territory_id, row.month) == (mine.territory_id, FEBRUARY)
    assert row.figures["territories"] == [mine.territory_id]
    assert row.figures["volumes"]["meals_distributed"] == 120
    assert row.figures["volumes"]["people_served"] == 90
