# ruff: noqa: S314 - parses the charts this code draws
"""The SVG charts: valid, accessible, safe under the pages' Content-Security-Policy, and the same
bytes for the same numbers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from evaluation import charts, figures
from tests.evaluation.reporting import END, START, pilot
from tests.test_english_pages import french_in

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

WEEKS = ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"]
MONTHS = ["2025-01-01", "2025-02-01", "2025-03-01"]


def every_chart() -> list[charts.Chart]:
    return [
        charts.weekly_flow_chart(
            code="weekly", weeks=WEEKS, meals=[120, 360, 0, 240], people=[100, 300, 0, 200]
        ),
        charts.monthly_cost_chart(
            code="costs", months=MONTHS, values=["4.12", None, "3.50"], complete=[True, False, False]
        ),
        charts.temperature_chart(code="temperature", months=MONTHS, checked=[12, 0, 10], within=[11, 0, 10]),
        charts.losses_chart(code="losses", months=MONTHS, lost=[5, 0, 9], rates=["4.0", None, "2.5"]),
        charts.comparison_chart(
            code="comparison",
            title="Repas distribués par territoire",
            names=["Plaine Commune", "Est Ensemble"],
            values=[4320, None],
            complete=[True, False],
            unit="repas",
        ),
    ]


@pytest.mark.parametrize("index", range(5))
def test_each_chart_is_valid_accessible_svg_with_nothing_the_csp_blocks(index):
    chart = every_chart()[index]
    root = ET.fromstring(chart.svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root[0], root[1]
    assert title.tag == f"{SVG}title" and title.text == chart.title
    assert desc.tag == f"{SVG}desc" and desc.text == chart.description
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    tags = {element.tag for element in root.iter()}
    # No <style> element nor style="" attribute (style-src 'self'), no script, no foreign object.
    assert not tags & {f"{SVG}style", f"{SVG}script", f"{SVG}foreignObject", f"{SVG}metadata"}
    assert not any("style" in element.attrib for element in root.iter())
    assert not re.search(r"\son\w+=", chart.svg)  # no event handler attribute
    # Ids carry the chart's code (unique on a page) and every reference points inside the chart.
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids)) and all(identifier.startswith(f"{chart.code}-") for identifier in ids)
    references = {value[1:] for element in root.iter() for value in [element.get(XLINK_HREF, "")] if value}
    references |= {
        match
        for element in root.iter()
        for v in element.attrib.values()
        for match in re.findall(r"url\(#([^)]+)\)", v)
    }
    assert references <= set(ids)
    # Text stays text, in a font the PDF renderer has, with a fallback for browsers.
    texts = [element for element in root.iter(f"{SVG}text")]
    assert texts and all("sans-serif" in element.get("font-family", "") for element in texts)


def test_the_same_numbers_give_the_same_bytes_and_other_numbers_other_bytes():
    first, second = every_chart(), every_chart()
    assert [chart.svg for chart in first] == [chart.svg for chart in second]
    changed = charts.weekly_flow_chart(
        code="weekly", weeks=WEEKS, meals=[121, 360, 0, 240], people=[100, 300, 0, 200]
    )
    assert changed.svg != first[0].svg


def test_incomplete_months_are_marked_on_the_cost_chart():
    chart = every_chart()[1]
    assert "Mois incomplet (au moins)" in chart.svg
    assert "≥ 3,50 €" in chart.svg and "inconnu" in chart.svg
    assert "Mois incomplets (données manquantes, valeur minimale) : 02/2025, 03/2025." in chart.description
    assert "url(#costs-h" in chart.svg  # the hatching of the incomplete bars


def test_numbers_are_written_the_french_way():
    assert charts.local_number(12345.678, 2) == "12\u202f345,68"
    assert charts.local_number(None) == "—"
    chart = charts.comparison_chart(
        code="c", title="Coût", names=["A"], values=["1234.5"], complete=[True], unit="€", decimals=2
    )
    assert "1\u202f234,50 €" in chart.svg


def test_an_unknown_style_is_refused_rather_than_let_through():
    raw = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">'
        '<path d="M 0 0" style="fill: #000; behavior: url(x)"/></svg>'
    )
    with pytest.raises(charts.ChartError):
        charts.clean_svg(raw, code="x", title="x", description="x")


@pytest.mark.django_db
def test_the_charts_of_a_territory_come_from_its_figures_alone():
    territory = pilot(costs=False).territory
    data = figures.dashboard_figures(territory_id=territory.pk, start=START, end=END)
    drawn = charts.charts_of(data)
    assert set(drawn) == {"weekly", "monthly_costs", "temperature", "losses"}
    again = charts.charts_of(data)
    assert [chart.svg for chart in drawn.values()] == [chart.svg for chart in again.values()]
    # Without cost inputs every month is incomplete, and the chart says so.
    assert all(not row["complete"] for row in data["tables"]["monthly_costs"]["rows"])
    assert "Mois incomplets" in drawn["monthly_costs"].description
    for chart in drawn.values():
        ET.fromstring(chart.svg)


def chart_text(chart: charts.Chart) -> str:
    """Everything a reader of the chart sees or hears: its title, description and drawn text."""
    root = ET.fromstring(chart.svg)
    return " ".join(text for element in root.iter() for text in [element.text or ""] if text.strip())


def test_the_charts_in_english_hold_no_french_and_write_numbers_and_dates_the_english_way():
    with translation.override("en"):
        drawn = every_chart()
        english = charts.comparison_chart(
            code="c", title="Cost", names=["A"], values=["1234.5"], complete=[False], unit="€", decimals=2
        )
        rows = [
            {"territory": "Plaine Commune", "meals_distributed": 4320, "full_cost_per_meal": "1.92",
             "full_cost_complete": True},
            {"territory": "Est Ensemble", "meals_distributed": 0, "full_cost_per_meal": None,
             "full_cost_complete": False},
        ]  # fmt: skip
        side_by_side = charts.comparison_charts(rows)
    weekly, costs, temperature, losses, _comparison = drawn
    comparison = side_by_side["comparison_meals"]
    assert weekly.title == "Meals distributed and visits (people served), by week"
    assert weekly.description == (
        "4 weeks: 720 meals distributed and 600 visits (people served) in all. "
        "The figures of each week are in the table that follows."
    )
    assert ">01/13<" in weekly.svg and ">13/01<" not in weekly.svg  # the week of Monday 13 January
    assert "Week of" in weekly.svg and "Meals distributed" in weekly.svg
    assert "Incomplete month (at least)" in costs.svg and "€ per meal" in costs.svg
    assert "≥ 3.50 €" in costs.svg and "unknown" in costs.svg
    assert costs.description == (
        "Full cost per meal distributed for each month of the period: 01/2025: 4.12 €; "
        "02/2025: unknown; 03/2025: at least 3.50 €. "
        "Incomplete months (missing data, lowest value): 02/2025, 03/2025."
    )
    assert temperature.description == (
        "Over the period, 21 pickups out of 22 were received at +3 °C or below (cold chain) "
        "or at 63 °C or above (hot delivery)."
    )
    assert "91.7 % (11/12)" in temperature.svg and "no pickup" in temperature.svg
    assert losses.title == "Meals lost and loss rate, by month" and "4.0 %" in losses.svg
    assert losses.description.startswith("14 meals lost over the period")
    assert comparison.title == "Meals distributed by territory"
    assert comparison.description == "Plaine Commune: 4,320 meals; Est Ensemble: 0 meals."
    cost = side_by_side["comparison_cost"]
    assert cost.title == "Full cost per meal distributed, by territory"
    assert cost.description == "Plaine Commune: 1.92 €; Est Ensemble: unknown."
    assert "≥ 1,234.50 €" in english.svg and english.description == "A: at least 1,234.50 €."
    for chart in [weekly, costs, temperature, losses, comparison, cost, english]:
        assert not french_in(chart_text(chart)), (chart.code, french_in(chart_text(chart)))


def test_one_pickup_and_one_meal_lost_are_singular_in_both_languages():
    def described() -> tuple[str, str]:
        temperature = charts.temperature_chart(code="t", months=MONTHS[:1], checked=[1], within=[1])
        losses = charts.losses_chart(code="l", months=MONTHS[:1], lost=[1], rates=["1.0"])
        return temperature.description, losses.description

    french, english = described(), None
    with translation.override("en"):
        english = described()
    assert french[0].startswith("Sur la période, 1 collecte sur 1 a été reçue à +3 °C")
    assert french[1].startswith("1 repas perdu sur la période (écarté,")
    assert english[0].startswith("Over the period, 1 pickup out of 1 was received")
    assert english[1].startswith("1 meal lost over the period")


def test_the_comparison_chart_agrees_meals_with_their_number():
    rows = [
        {
            "territory": territory,
            "meals_distributed": meals,
            "full_cost_per_meal": None,
            "full_cost_complete": False,
        }
        for territory, meals in (("A", 1), ("B", 0), ("C", 2))
    ]
    french = charts.comparison_charts(rows)["comparison_meals"]
    with translation.override("en"):
        english = charts.comparison_charts(rows)["comparison_meals"]
    assert french.description == "A : 1 repas ; B : 0 repas ; C : 2 repas."
    assert english.description == "A: 1 meal; B: 0 meals; C: 2 meals."
    assert ">1 meal<" in english.svg and ">2 meals<" in english.svg
