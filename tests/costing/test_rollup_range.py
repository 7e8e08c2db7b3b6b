"""The set-based rebuild (one statement for a whole range, on PostgreSQL) writes exactly the
rows of the per-day roll-up, repairs stale, missing and orphan rows, and leaves the rows that
are up to date untouched.

The records come from ``generate_scale`` with its rare outcomes made frequent: cancelled and
discarded batches, temperature breaches, discards, expired batches, pickups without a rate.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from associations.models import Partnership
from costing import rollups
from costing.models import DailyRollup, TransportRate
from meals.management.commands import generate_scale
from territories.models import Territory
from tests.conftest import needs_postgresql
from tests.test_generate_scale import frequent_outcomes  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

DAYS = 40
# The columns of the rare cases, which the generated records must exercise.
EXERCISED = [
    "batches_cancelled", "batches_expired", "dispatch_breaches", "receipt_breaches", "meals_discarded",
    "pickups_without_cost", "transport_cost", "households", "children",
]  # fmt: skip


@pytest.fixture
def records(frequent_outcomes):  # noqa: F811 - the imported fixture
    needs_postgresql("the set-based rebuild is PostgreSQL's; elsewhere rebuild() runs day by day")
    generate_scale.generate(
        territories=3, days=DAYS, seed=5, kitchens_per_territory=2, associations_per_territory=5
    )
    # A month without rates in one territory: its pickups are counted as without a cost.
    first = Territory.objects.all_territories().order_by("pk").first()
    TransportRate.objects.filter(territory=first, month=datetime.date.today().replace(day=1)).delete()
    today = datetime.date.today()
    territory_ids = list(Territory.objects.all_territories().values_list("pk", flat=True))
    return territory_ids, today - datetime.timedelta(days=DAYS - 1), today


def rows() -> list[tuple]:
    return sorted(
        DailyRollup.objects.values_list(*[name.removesuffix("_id") for name in rollups.ROLLUP_COLUMNS])
    )


def test_the_range_statement_writes_the_per_day_rows(records):
    territory_ids, since, until = records
    rollups.rebuild_per_day(territory_ids=territory_ids, since=since, until=until)
    expected = rows()
    assert len(expected) > 100
    summed = {
        name: sum(row[5 + index] for row in expected) for index, name in enumerate(rollups.SUMMED_FIELDS)
    }
    for name in EXERCISED:
        assert summed[name] > 0, name

    DailyRollup.objects.all().delete()
    assert rollups.rebuild_range(territory_ids=territory_ids, since=since, until=until) == len(expected)
    assert rows() == expected
    assert rollups.rebuild(territory_ids=territory_ids, since=since, until=until) == len(expected)
    assert rows() == expected


def table_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname",
            [DailyRollup._meta.db_table],
        )
        return cursor.fetchall()


def test_an_empty_table_is_filled_and_keeps_its_indexes_and_constraints(records):
    territory_ids, since, until = records
    rollups.rebuild_per_day(territory_ids=territory_ids, since=since, until=until)
    expected = rows()
    indexes = table_indexes()
    assert len(indexes) == 5  # the primary key, the unique key, partnership, kitchen, association
    DailyRollup.objects.all().delete()

    assert rollups.rebuild_range(territory_ids=territory_ids, since=since, until=until) == len(expected)

    assert rows() == expected
    assert table_indexes() == indexes
    # Analysed: the planner has the columns' statistics (none were kept while the table was empty).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_distinct FROM pg_stats WHERE tablename = %s AND attname = 'day'",
            [DailyRollup._meta.db_table],
        )
        assert cursor.fetchall() != []
    # The unique key still holds, and a new row still gets its id.
    first = DailyRollup.objects.order_by("pk").first()
    assert first is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyRollup.objects.create(
            territory_id=first.territory_id,
            day=first.day,
            partnership_id=first.partnership_id,
            kitchen_id=first.kitchen_id,
            association_id=first.association_id,
        )
    added = DailyRollup.objects.create(
        territory_id=first.territory_id,
        day=since - datetime.timedelta(days=1),
        partnership_id=first.partnership_id,
        kitchen_id=first.kitchen_id,
        association_id=first.association_id,
    )
    assert added.pk > max(row.pk for row in DailyRollup.objects.exclude(pk=added.pk))


def test_a_range_without_rows_is_inserted_beside_the_others(records):
    territory_ids, since, until = records
    rollups.rebuild_per_day(territory_ids=territory_ids, since=since, until=until)
    expected = rows()
    middle = since + datetime.timedelta(days=DAYS // 2)
    DailyRollup.objects.filter(day__gte=middle).delete()
    DailyRollup.objects.update(batches=77)  # the days before the range, to be left alone
    kept = rows()

    rollups.rebuild_range(territory_ids=territory_ids, since=middle, until=until)

    assert rows() == sorted(kept + [row for row in expected if row[1] >= middle])


def test_stale_missing_and_orphan_rows_are_repaired_and_the_others_untouched(records):
    territory_ids, since, until = records
    rollups.rebuild_range(territory_ids=territory_ids, since=since, until=until)
    expected = rows()
    ids = list(DailyRollup.objects.order_by("pk").values_list("pk", flat=True))
    stale, missing, kept = ids[0], ids[1], ids[2:]
    DailyRollup.objects.filter(pk=stale).update(batches=999, kitchen_id=0)
    DailyRollup.objects.filter(pk=missing).delete()
    template = DailyRollup.objects.get(pk=kept[0])
    idle = Partnership.objects.create(
        territory_id=template.territory_id,
        kitchen_id=template.kitchen_id,
        association_id=template.association_id,
        mode=Partnership.Mode.DEDICATED,
        starts_on=since,
        planned_meals_per_week=10,
    )
    orphan = DailyRollup.objects.create(
        territory_id=template.territory_id,
        partnership=idle,
        kitchen_id=template.kitchen_id,
        association_id=template.association_id,
        day=template.day,
        batches=3,
    )
    untouched = dict(DailyRollup.objects.filter(pk__in=kept).values_list("pk", "batches"))

    rollups.rebuild_range(territory_ids=territory_ids, since=since, until=until)

    assert rows() == expected
    assert not DailyRollup.objects.filter(pk=orphan.pk).exists()
    assert DailyRollup.objects.get(pk=stale).batches != 999  # updated in place
    assert dict(DailyRollup.objects.filter(pk__in=kept).values_list("pk", "batches")) == untouched


def test_only_the_territories_and_days_asked_are_rebuilt(records):
    territory_ids, since, until = records
    rollups.rebuild_range(territory_ids=territory_ids, since=since, until=until)
    DailyRollup.objects.update(batches=77)
    first, *others = sorted(territory_ids)
    middle = since + datetime.timedelta(days=DAYS // 2)

    rollups.rebuild_range(territory_ids=[first], since=middle, until=until)

    rebuilt = DailyRollup.objects.filter(territory_id=first, day__gte=middle)
    assert rebuilt.exists() and not rebuilt.filter(batches=77).exists()
    assert not DailyRollup.objects.filter(territory_id=first, day__lt=middle).exclude(batches=77).exists()
    assert not DailyRollup.objects.filter(territory_id__in=others).exclude(batches=77).exists()
