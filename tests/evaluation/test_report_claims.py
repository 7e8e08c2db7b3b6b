"""Reports say what the data says: the reference values the figures used, one "collected on
time", visits rather than people, the meals' content from the batches' components, no claim
without a figure. Built for January 2025 on the pilot of ``tests.evaluation.reporting`` (12 days
of activity: 12 pickups, 1 440 meals distributed during 1 200 visits), read back from the PDF.
"""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from costing.models import DailyRollup
from costing.services import territory_cost
from evaluation import reports
from evaluation.indicators import compute_indicators
from evaluation.models import Report
from meals.models import Batch
from territories.roles import Role
from tests.evaluation.reporting import pilot
from tests.factories import ReferenceValueFactory, UserFactory, member

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 1, 31)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\u00a0\u202f]+", " ", "\n".join(page.extract_text() for page in reader.pages))


def build(kind: str, territory) -> tuple[Report, str]:
    report = Report.objects.create(
        kind=kind,
        territory=territory,
        period_start=START,
        period_end=END,
        requested_by=member(Role.EVALUATOR),
    )
    report = reports.report_build(report_id=report.pk)
    assert report.status == "done", report.message
    return report, pdf_text(reports.report_pdf_file(report).read())


def test_the_reference_values_printed_are_those_the_figures_used():
    day = datetime.date
    # The food parcel: 4,25 € until a new value from 1 February 2025, the day after the cost
    # period; the social grocery: a new value from 31 January, its last day (one step inside).
    ReferenceValueFactory(code="food_parcel_cost_per_meal", value=Decimal("4.25"), valid_from=day(2024, 1, 1))
    ReferenceValueFactory(code="food_parcel_cost_per_meal", value=Decimal("5.10"), valid_from=day(2025, 2, 1))
    ReferenceValueFactory(
        code="social_grocery_cost_per_meal", value=Decimal("2.00"), valid_from=day(2024, 1, 1)
    )
    ReferenceValueFactory(
        code="social_grocery_cost_per_meal", value=Decimal("2.50"), valid_from=day(2025, 1, 31)
    )
    ReferenceValueFactory(code="volunteer_hour_value", value=Decimal("12.00"), valid_from=day(2024, 1, 1))
    ReferenceValueFactory(code="co2_kg_per_meal", value=Decimal("1.70"), valid_from=day(2024, 1, 1))  # unused
    plaine = pilot()
    report, text = build("drihl", plaine.territory)

    cost = territory_cost(territory_ids=[plaine.territory.pk], start=START, end=END)
    full = cost.figure("full_cost_per_meal").exact
    used = cost.figure("food_parcel_cost_per_meal_difference").value
    assert used == (full - Decimal("4.25")).quantize(Decimal("0.01"))  # the figure used 4,25 €

    printed = {
        row["code"]: (row["value"], row["valid_from"], row["valid_to"])
        for row in report.figures["references"]
    }
    assert printed == {
        "food_parcel_cost_per_meal": ("4.2500", "2024-01-01", "2025-01-31"),
        "social_grocery_cost_per_meal": ("2.5000", "2025-01-31", None),
        "volunteer_hour_value": ("12.0000", "2024-01-01", None),  # the associations' volunteer hours
    }
    assert "Coût d'un colis alimentaire par équivalent repas (€) 4,25 du 01/01/2024 au 31/01/2025" in text
    assert "Coût en épicerie solidaire par équivalent repas (€) 2,50 à partir du 31/01/2025" in text
    assert not re.search(r"(?<![\d,])5,10", text)  # the later value, not yet in force
    assert "par équivalent repas (€) 2,00" not in text
    assert "CO2 par repas" not in text  # nothing uses it


def test_one_definition_of_collected_on_time_in_every_figure_of_a_report():
    plaine = pilot()
    rows = list(DailyRollup.objects.filter(territory=plaine.territory, day__lte=END).order_by("day"))
    assert len(rows) == 12
    DailyRollup.objects.filter(pk=rows[0].pk).update(pickups_on_time=0)  # a pickup after the use-by date
    DailyRollup.objects.filter(pk=rows[1].pk).update(batches_expired=1)  # a batch nobody collected
    # 11 pickups on time ÷ (12 pickups + 1 batch expired) = 84,6 % (÷ the pickups alone: 91,7 %).
    indicator = compute_indicators(territory_ids=[plaine.territory.pk], start=START, end=END).get(
        "pickups_on_time_share"
    )
    assert indicator.value == Decimal("84.6")

    report, text = build("drihl", plaine.territory)
    temperature = report.figures["tables"]["temperature"]["rows"]
    assert [row["pickups_on_time_share"] for row in temperature] == ["84.6"]
    assert report.figures["volumes"]["pickups_on_time_share"] == "84.6"
    on_time = next(row for row in report.figures["indicators"] if row["code"] == "pickups_on_time_share")
    assert on_time["value"] == "84.6"
    assert "Part des lots collectés à temps 84,6 %" in text
    assert "91,7" not in text


def test_the_carasso_report_speaks_of_visits_and_of_the_batches_components():
    plaine = pilot()
    partnership = plaine.partnership
    kitchen_user = UserFactory()
    compositions = (
        [["starter", "main", "side", "dessert"]] * 3  # full meals
        + [["main", "side", "bread"]] * 5  # a main course and its side
        + [["dessert"]]  # something else
        + [[]]  # nothing recorded
    )
    for index, components in enumerate(compositions):
        Batch.objects.create(
            partnership=partnership,
            territory=plaine.territory,
            kitchen=plaine.kitchen,
            association=plaine.association,
            kind="surplus",
            production_date=datetime.date(2025, 1, 6 + index),
            meals_count=100,
            components=components,
            liaison="cold",
            lot_number=f"L-{index}",
            use_by_date=datetime.date(2025, 1, 9 + index),
            dispatch_temperature_c=Decimal("2.0"),
            status="distributed",
            created_by=kitchen_user,
        )
    Batch.objects.create(  # cancelled: not a meal anyone ate
        partnership=partnership,
        territory=plaine.territory,
        kitchen=plaine.kitchen,
        association=plaine.association,
        kind="surplus",
        production_date=datetime.date(2025, 1, 20),
        meals_count=100,
        components=["main", "side"],
        liaison="cold",
        lot_number="L-X",
        use_by_date=datetime.date(2025, 1, 23),
        dispatch_temperature_c=Decimal("2.0"),
        status="cancelled",
        created_by=kitchen_user,
    )
    report, text = build("carasso", plaine.territory)
    content = report.figures["meal_content"]
    assert content["batches"] == 10
    assert [content[kind]["share"] for kind in ("full", "main_side", "other", "unknown")] == [
        "30.0",
        "50.0",
        "10.0",
        "10.0",
    ]
    assert "1 440 repas issus de la restauration collective" in text
    assert "lors de 1 200 passages" in text and "1,20 repas par passage" in text
    assert "sur 10 lots produits sur la période, 30,0 % sont des repas complets" in text
    assert "50,0 % un plat et son accompagnement, 10,0 % d'autres compositions" in text
    assert "et 10,0 % n'ont pas de composantes déclarées" in text
    assert "équilibré" not in text
    # Sustainable and quality products are named only by the EGalim section, which says the
    # kitchen did not declare them rather than claiming a share.
    egalim = report.figures["tables"]["egalim"]["rows"]
    assert [(row["kitchen"], row["quality_share"], row["complete"]) for row in egalim] == [
        (plaine.kitchen.name, None, False)
    ]
    assert "non déclaré" in text
    assert "repas durables" not in text
    assert "1 200 personnes" not in text
    assert "Passages (personnes servies) 1 200" in text
