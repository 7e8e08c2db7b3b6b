# ruff: noqa: RUF001, RUF002, RUF003 - written with the signs × and ÷ of French arithmetic
"""The conditions for replicating the model: what each territory needed, what its journal says
by theme, and where distribution sites left weeks without any distribution.

- **What each territory needed** over the period: the pickups by transport mode (the vehicles
  the flow relied on), the distribution sites and their refrigerated volume, the volunteer hours
  and the coordination hours entered in the monthly costs of the months the period touches, and
  the coordination time per meal = coordination hours × 60 ÷ meals distributed (minutes). Hours
  nobody entered are unknown, never zero.
- **The journal by theme**: the observations of the period counted by theme (logistics, food
  safety, costs, governance, volunteers, beneficiaries, kitchen staff) and nature (obstacle,
  lever, decision), with their titles; a report read by funders counts only the entries shared
  with them.
- **Gaps in cover**: for each site, the weeks (Monday to Sunday) of the period in which it held
  no distribution; year-round cover is a need the food-aid network names.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from associations.models import DistributionSite
from costing.models import AssociationCost, CoordinationCost, DailyRollup
from costing.services import first_of_month, last_of_month
from meals.models import Distribution, Pickup, TransportMode

from .figures import Table, choice_labels, column, monday, table
from .models import JournalEntry

TENTH = Decimal("0.1")


def weeks_of(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The Mondays of the weeks the period touches."""
    week, weeks = monday(start), []
    while week <= end:
        weeks.append(week)
        week += datetime.timedelta(days=7)
    return weeks


def needs_rows(
    *, territory_ids: list[int], start: datetime.date, end: datetime.date, names: dict[int, str]
) -> list[dict[str, Any]]:
    months = (first_of_month(start), last_of_month(end))
    modes = dict(TransportMode.choices)
    pickups: dict[int, list[str]] = defaultdict(list)
    for row in (
        Pickup.objects.all_territories()
        .filter(territory_id__in=territory_ids, picked_up_at__date__gte=start, picked_up_at__date__lte=end)
        .values("territory", "transport_mode")
        .annotate(count=Count("pk"))
        .order_by("territory", "-count", "transport_mode")
    ):
        pickups[row["territory"]].append(
            f"{modes.get(row['transport_mode'], row['transport_mode'])} ({row['count']})"
        )
    sites = {
        row["territory"]: row
        for row in DistributionSite.objects.all_territories()
        .filter(territory_id__in=territory_ids)
        .values("territory")
        .annotate(count=Count("pk"), litres=Sum("cold_storage_litres"))
    }
    volunteers = {
        row["territory"]: row
        for row in AssociationCost.objects.all_territories()
        .filter(territory_id__in=territory_ids, month__gte=months[0], month__lte=months[1])
        .values("territory")
        .annotate(hours=Sum("volunteer_hours"), entered=Count("volunteer_hours"), rows=Count("pk"))
    }
    coordination = {
        row["territory"]: row
        for row in CoordinationCost.objects.all_territories()
        .filter(territory_id__in=territory_ids, month__gte=months[0], month__lte=months[1])
        .values("territory")
        .annotate(hours=Sum("staff_hours"), entered=Count("staff_hours"), rows=Count("pk"))
    }
    meals = dict(
        DailyRollup.objects.all_territories()
        .filter(territory_id__in=territory_ids, day__gte=months[0], day__lte=months[1])
        .values("territory")
        .annotate(meals=Sum("meals_distributed"))
        .values_list("territory", "meals")
    )
    rows = []
    for territory_id in territory_ids:
        volunteer = volunteers.get(territory_id)
        coordinated = coordination.get(territory_id)
        # Hours are known when entered in every row read; a row without them leaves a lower bound.
        volunteer_hours = volunteer["hours"] if volunteer and volunteer["entered"] else None
        coordination_hours = coordinated["hours"] if coordinated and coordinated["entered"] else None
        distributed = meals.get(territory_id) or 0
        per_meal = None
        if coordination_hours is not None and distributed:
            per_meal = (Decimal(coordination_hours) * 60 / distributed).quantize(
                TENTH, rounding=ROUND_HALF_UP
            )
        site = sites.get(territory_id) or {"count": 0, "litres": None}
        rows.append(
            {
                "territory": names[territory_id],
                "vehicles": ", ".join(pickups.get(territory_id, [])) or _("aucune collecte"),
                "sites": site["count"],
                "cold_storage_litres": site["litres"],
                "volunteer_hours": volunteer_hours,
                "volunteer_hours_complete": volunteer is not None
                and volunteer["entered"] == volunteer["rows"],
                "coordination_hours": coordination_hours,
                "coordination_minutes_per_meal": per_meal,
                "coordination_complete": coordinated is not None
                and coordinated["entered"] == coordinated["rows"],
            }
        )
    return rows


def journal_rows(
    *, territory_ids: list[int], start: datetime.date, end: datetime.date, shared_only: bool
) -> list[dict[str, Any]]:
    entries = JournalEntry.objects.all_territories().filter(
        territory_id__in=territory_ids, observed_on__gte=start, observed_on__lte=end
    )
    if shared_only:
        entries = entries.filter(shared_with_funders=True)
    themes = [*JournalEntry.Theme.values, ""]
    labels = {**choice_labels(JournalEntry, "theme"), "": _("Sans thème")}
    counts: dict[str, dict[str, int]] = {theme: defaultdict(int) for theme in themes}
    titles: dict[str, list[str]] = defaultdict(list)
    for entry in entries.order_by("observed_on", "pk").only("theme", "nature", "title"):
        counts[entry.theme][entry.nature] += 1
        titles[entry.theme].append(entry.title)
    return [
        {
            "theme": labels[theme],
            "obstacles": counts[theme][JournalEntry.Nature.OBSTACLE],
            "levers": counts[theme][JournalEntry.Nature.LEVER],
            "decisions": counts[theme][JournalEntry.Nature.DECISION],
            "titles": " ; ".join(titles[theme]),
        }
        for theme in themes
        if titles[theme]
    ]


def cover_rows(
    *, territory_ids: list[int], start: datetime.date, end: datetime.date, names: dict[int, str]
) -> list[dict[str, Any]]:
    """Each site's weeks without any distribution in the period."""
    weeks = weeks_of(start, end)
    held: dict[int, set[datetime.date]] = defaultdict(set)
    for site_id, day in (
        Distribution.objects.all_territories()
        .filter(territory_id__in=territory_ids, distributed_on__gte=start, distributed_on__lte=end)
        .values_list("site", "distributed_on")
        .distinct()
    ):
        held[site_id].add(monday(day))
    rows = []
    for site in (
        DistributionSite.objects.all_territories()
        .filter(territory_id__in=territory_ids)
        .select_related("association")
        .order_by("territory__name", "name")
    ):
        gaps = [week for week in weeks if week not in held[site.pk]]
        rows.append(
            {
                "territory": names[site.territory_id],
                "site": f"{site.name} ({site.association.name})",
                "weeks": len(weeks),
                "weeks_covered": len(weeks) - len(gaps),
                "weeks_without": len(gaps),
                "gap_weeks": ", ".join(f"{week:%d/%m}" for week in gaps),
            }
        )
    return rows


def replication_tables(
    *,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    names: dict[int, str],
    shared_only: bool,
) -> dict[str, Table]:
    return {
        "replication": table(
            "replication",
            _("Ce dont chaque territoire a eu besoin"),
            [
                column("territory", _("Territoire"), "text"),
                column("vehicles", _("Collectes par mode de transport"), "text"),
                column("sites", _("Lieux de distribution"), "int"),
                column("cold_storage_litres", _("Volume réfrigéré (litres)"), "int"),
                column(
                    "volunteer_hours", _("Heures de bénévoles"), "figure", complete="volunteer_hours_complete"
                ),
                column(
                    "coordination_hours",
                    _("Heures de coordination"),
                    "figure",
                    complete="coordination_complete",
                ),
                column(
                    "coordination_minutes_per_meal",
                    _("Coordination par repas (minutes)"),
                    "figure",
                    complete="coordination_complete",
                ),
            ],
            needs_rows(territory_ids=territory_ids, start=start, end=end, names=names),
            note=_(
                "Heures saisies dans les coûts mensuels des mois de la période ; coordination par repas = "
                "heures de coordination × 60 ÷ repas distribués de ces mois. Des heures non saisies sont "
                "inconnues, jamais nulles."
            ),
        ),
        "journal_themes": table(
            "journal_themes",
            _("Le journal d'observation par thème"),
            [
                column("theme", _("Thème"), "text"),
                column("obstacles", _("Freins"), "int"),
                column("levers", _("Leviers"), "int"),
                column("decisions", _("Décisions"), "int"),
                column("titles", _("Observations"), "text"),
            ],
            journal_rows(territory_ids=territory_ids, start=start, end=end, shared_only=shared_only),
        ),
        "cover_gaps": table(
            "cover_gaps",
            _("Semaines sans distribution, par lieu"),
            [
                column("territory", _("Territoire"), "text"),
                column("site", _("Lieu"), "text"),
                column("weeks_covered", _("Semaines avec distribution"), "int"),
                column("weeks_without", _("Semaines sans distribution"), "int"),
                column("gap_weeks", _("Semaines sans (lundi)"), "text"),
            ],
            cover_rows(territory_ids=territory_ids, start=start, end=end, names=names),
            note=_("Une semaine va du lundi au dimanche ; les semaines que la période touche comptent."),
        ),
    }
