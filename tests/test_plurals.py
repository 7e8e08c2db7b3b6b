"""Plurals and dates in both languages: French takes the singular for 0 and 1 ("0 ligne",
"1 lot"), English for 1 only ("0 batches"); the first of the month is "1er" in French only."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import ngettext

from evaluation.templatetags.reporting import long_date, short_day
from territories.management.commands.french_plurals import catalogue_path, french_catalogue, plural_entries

COUNTS = (0, 1, 2)


def lots(language: str) -> list[str]:
    with translation.override(language):
        return [ngettext("%(count)s lot", "%(count)s lots", n) % {"count": n} for n in COUNTS]


def test_french_takes_the_singular_for_zero_and_one_english_for_one_only():
    assert lots("fr") == ["0 lot", "1 lot", "2 lots"]
    assert lots("en") == ["0 batches", "1 batch", "2 batches"]


def test_the_french_catalogue_holds_every_plural_message_of_the_english_one():
    english = catalogue_path("en").read_text(encoding="utf-8")
    written = catalogue_path("fr").read_text(encoding="utf-8")
    assert written == french_catalogue(english), "run `python manage.py french_plurals`"
    assert len(plural_entries(written)) == len({entry["msgid"] for entry in plural_entries(english)}) > 20


def test_every_plural_message_is_translated_into_english():
    english = catalogue_path("en").read_text(encoding="utf-8")
    for entry in plural_entries(english):
        assert entry.get("msgstr[0]") and entry.get("msgstr[1]"), entry["msgid"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["(0 ligne)", "(1 ligne)", "(2 lignes)"]),
        ("en", ["(0 rows)", "(1 row)", "(2 rows)"]),
    ],
)
def test_a_report_table_counts_its_rows_in_the_reader_s_language(language, expected):
    template = Template(
        "{% load i18n %}({% blocktranslate count rows=rows %}{{ rows }} ligne{% plural %}{{ rows }} lignes"
        "{% endblocktranslate %})"
    )
    with translation.override(language):
        assert [template.render(Context({"rows": n})) for n in COUNTS] == expected


@pytest.mark.parametrize(
    ("language", "day", "parts", "expected"),
    [
        ("fr", datetime.date(2026, 9, 1), "", "1er septembre 2026"),
        ("fr", datetime.date(2026, 9, 2), "", "2 septembre 2026"),
        ("fr", datetime.date(2026, 9, 1), "weekday,noyear", "mardi 1er septembre"),
        ("en", datetime.date(2026, 9, 1), "", "1 September 2026"),
        ("en", datetime.date(2026, 9, 1), "weekday", "Tuesday 1 September 2026"),
        ("en", datetime.date(2026, 9, 11), "noyear", "11 September"),
    ],
)
def test_a_date_written_out_follows_the_language(language, day, parts, expected):
    with translation.override(language):
        assert long_date(day, parts) == expected


def test_a_day_in_a_narrow_cell_follows_the_language():
    day = datetime.date(2026, 12, 5)
    with translation.override("fr"):
        assert short_day(day) == "sam 5/12"
    with translation.override("en"):
        assert short_day(day) == "Sat 5 Dec"
