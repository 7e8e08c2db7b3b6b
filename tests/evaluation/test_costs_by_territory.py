"""The cost method of many territories at once (the comparison of territories, the national
synthesis) gives each territory the very report the method gives it alone, in a number of
queries that does not grow with the territories."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from costing import services as cost_services
from costing.models import AssociationCost
from costing.services import territory_cost
from evaluation.figures import costs_by_territory, report_figures
from tests.evaluation.reporting import END, START, pilot, references

pytestmark = pytest.mark.django_db


def test_each_territory_gets_the_report_it_gets_alone():
    references()
    complete = pilot()
    without_inputs = pilot("Est Ensemble", "est-ensemble", costs=False)
    partial = pilot("Grand Paris Sud", "grand-paris-sud")
    AssociationCost.objects.filter(association=partial.association).delete()  # missing inputs
    ids = [place.territory.pk for place in (complete, without_inputs, partial)]

    together = costs_by_territory(territory_ids=ids, start=START, end=END)

    assert list(together) == ids
    for territory_id in ids:
        alone = territory_cost(territory_ids=[territory_id], start=START, end=END)
        assert together[territory_id].as_dict() == alone.as_dict(), territory_id
    # The three differ, so equal reports are not equal by accident.
    missing = [len(together[territory_id].missing) for territory_id in ids]
    assert missing[0] < missing[2] < missing[1], missing


def test_its_queries_do_not_grow_with_the_territories():
    references()
    places = [pilot(f"Territoire {number}", f"territoire-{number}") for number in range(4)]
    ids = [place.territory.pk for place in places]

    def queries(territory_ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as captured:
            costs_by_territory(territory_ids=territory_ids, start=START, end=END)
        return len(captured.captured_queries)

    assert queries(ids) == queries(ids[:1])


def test_a_synthesis_reads_the_cost_inputs_once():
    """The cost method runs for the totals, each month, the indicators and each territory of the
    comparison, all on one read of the inputs (at national scale that read is most of the time)."""
    references()
    ids = [pilot(f"Territoire {number}", f"territoire-{number}").territory.pk for number in range(3)]

    with CaptureQueriesContext(connection) as captured:
        figures = report_figures(kind="synthesis", territory_ids=ids, start=START, end=END)

    reads = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "costing_kitchencostinput"' in query["sql"]
    ]
    assert len(reads) == 1, reads
    assert len(figures["tables"]["comparison"]["rows"]) == 3


def test_a_synthesis_reads_the_rollups_by_month_once_and_costs_each_actor_month_once(monkeypatch):
    """The volumes, the cost method (totals, months, territories), the objectives and the
    comparison all ask for the roll-ups summed by month over the same whole months: one read.
    Each actor-month is costed once however often the method runs on its share."""
    references()
    ids = [pilot(f"Territoire {number}", f"territoire-{number}").territory.pk for number in range(3)]
    costed: list[int] = []
    real = cost_services.association_month_cost
    monkeypatch.setattr(
        cost_services, "association_month_cost", lambda row: costed.append(id(row)) or real(row)
    )

    with CaptureQueriesContext(connection) as captured:
        report_figures(kind="synthesis", territory_ids=ids, start=START, end=END)

    by_month = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "costing_dailyrollup"' in query["sql"] and "month" in query["sql"].lower()
    ]
    assert len(by_month) == 1, by_month
    assert costed and len(costed) == len(set(costed))
