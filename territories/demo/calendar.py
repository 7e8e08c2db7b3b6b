"""The school holidays of the four pilot territories: zone C (académies de Créteil, Paris and
Versailles), from the official national school calendar.

Source: ministère de l'Éducation nationale, « Calendrier scolaire »
(https://www.education.gouv.fr/calendrier-scolaire-100148), fixed by the arrêtés of the
national school calendar (arrêté du 6 décembre 2022 for 2023-2024 to 2025-2026, published in
the Journal officiel of 8 December 2022; the following arrêté for 2026-2027). The official
calendar gives the last day of classes (a Saturday: "fin des cours") and the day they resume
(a Monday, "reprise des cours"); a kitchen serves no school lunch from the Monday after the
last day of classes to the day before they resume, and that is the span recorded here
(``kitchens.Closure``). docs/methodology.md lists the dates.

Public holidays are not closures: a week with a public holiday still runs. The demo's flow
produces nothing on them (``meals.demo.is_school_day``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

SOURCE = (
    "Calendrier scolaire national, zone C (académies de Créteil, Paris, Versailles), "
    "education.gouv.fr/calendrier-scolaire-100148"
)


@dataclass(frozen=True)
class Holiday:
    label: str
    # The first and last days without school lunch (both included).
    starts_on: datetime.date
    ends_on: datetime.date
    school_year: str

    def __contains__(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on


D = datetime.date

# Zone C. "Fin des cours" on a Saturday, "reprise" on a Monday (Tuesday 1 September 2026).
ZONE_C: tuple[Holiday, ...] = (
    # 2024-2025
    Holiday("Vacances de la Toussaint", D(2024, 10, 21), D(2024, 11, 3), "2024-2025"),
    Holiday("Vacances de Noël", D(2024, 12, 23), D(2025, 1, 5), "2024-2025"),
    Holiday("Vacances d'hiver", D(2025, 2, 17), D(2025, 3, 2), "2024-2025"),
    Holiday("Vacances de printemps", D(2025, 4, 14), D(2025, 4, 27), "2024-2025"),
    Holiday("Pont de l'Ascension", D(2025, 5, 30), D(2025, 5, 31), "2024-2025"),
    Holiday("Vacances d'été", D(2025, 7, 7), D(2025, 8, 31), "2024-2025"),
    # 2025-2026: fin des cours samedi 18 octobre, reprise lundi 3 novembre 2025; 20 décembre -
    # 5 janvier 2026; zone C 21 février - 9 mars, 18 avril - 4 mai 2026; no classes on Friday
    # 15 and Saturday 16 May 2026 (Ascension); summer from Saturday 4 July 2026.
    Holiday("Vacances de la Toussaint", D(2025, 10, 20), D(2025, 11, 2), "2025-2026"),
    Holiday("Vacances de Noël", D(2025, 12, 22), D(2026, 1, 4), "2025-2026"),
    Holiday("Vacances d'hiver", D(2026, 2, 23), D(2026, 3, 8), "2025-2026"),
    Holiday("Vacances de printemps", D(2026, 4, 20), D(2026, 5, 3), "2025-2026"),
    Holiday("Pont de l'Ascension", D(2026, 5, 15), D(2026, 5, 16), "2025-2026"),
    Holiday("Vacances d'été", D(2026, 7, 6), D(2026, 8, 31), "2025-2026"),
    # 2026-2027: rentrée mardi 1er septembre 2026; fin des cours samedi 17 octobre, reprise
    # lundi 2 novembre 2026; 19 décembre 2026 - 4 janvier 2027.
    Holiday("Vacances de la Toussaint", D(2026, 10, 19), D(2026, 11, 1), "2026-2027"),
    Holiday("Vacances de Noël", D(2026, 12, 21), D(2027, 1, 3), "2026-2027"),
)

# The days the official calendar above covers: outside them the demo's flow uses an estimate.
COVERED = (D(2024, 9, 2), D(2027, 1, 3))


def holidays_between(since: datetime.date, until: datetime.date) -> list[Holiday]:
    """The zone C holidays that touch the days from ``since`` to ``until``."""
    return [h for h in ZONE_C if h.starts_on <= until and h.ends_on >= since]


def holiday_on(day: datetime.date) -> Holiday | None:
    return next((h for h in ZONE_C if day in h), None)
