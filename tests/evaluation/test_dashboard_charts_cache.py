"""The dashboard's charts are drawn once per set of numbers: a drawing is kept under a digest of
the tables it is drawn from, so other numbers, or another language, draw again."""

from __future__ import annotations

import copy

from django.utils import translation

from evaluation import views


def test_the_same_tables_are_drawn_once_and_other_numbers_again(monkeypatch):
    drawn: list[dict] = []

    def charts_of(data: dict) -> dict:
        drawn.append(data)
        return {"weekly": f"drawing {len(drawn)}"}

    monkeypatch.setattr(views, "charts_of", charts_of)
    data = {
        "tables": {
            "weekly": {"rows": [{"week": "2025-03-03", "meals_distributed": 870}]},
            "losses": {"rows": []},
            "indicators": {"rows": [{"code": "journal_entries", "value": 1}]},
        }
    }
    first = views.dashboard_charts(data)
    assert views.dashboard_charts(copy.deepcopy(data)) == first
    assert len(drawn) == 1
    # A table the charts do not draw changes nothing.
    data["tables"]["indicators"]["rows"][0]["value"] = 2
    assert views.dashboard_charts(data) == first
    assert len(drawn) == 1
    # Another number of a drawn table, or another language: drawn again.
    data["tables"]["weekly"]["rows"][0]["meals_distributed"] = 871
    assert views.dashboard_charts(data) == {"weekly": "drawing 2"}
    with translation.override("en"):
        assert views.dashboard_charts(data) == {"weekly": "drawing 3"}
