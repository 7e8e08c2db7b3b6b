# ruff: noqa: RUF001, RUF003 - written with the sign − of French arithmetic
"""What a report adds for the funders' questions beyond the flow: the money (budgets, net cost,
fixed share: ``evaluation.funding``), capacity, who is reached, the conditions of replication,
the kitchen staff's and beneficiaries' voice and the EGalim shares. One entry point,
``programme_figures``, called once by ``evaluation.figures.report_figures``; its tables join the
report's (PDF and exports) and its figures are frozen with them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from costing.selectors import FrameReader, rollup_frame
from costing.services import CostData, CostReport
from kitchens.capacity import kitchen_capacities
from kitchens.models import EgalimDeclaration, Kitchen

from .figures import Table, column, table
from .funding import money_part
from .reach import reach_figures, reach_table
from .replication import replication_tables


def programme_figures(
    figures: dict[str, Any],
    *,
    kind: str,
    territory_ids: list[int],
    start: datetime.date,
    end: datetime.date,
    cost: CostReport,
    data: CostData,
    read_frame: FrameReader = rollup_frame,
) -> None:
    """Adds the programme's tables to a report's ``figures["tables"]`` and their figures to
    ``figures["programme"]``."""
    names = {row["id"]: row["name"] for row in figures["territories"]}
    tables, money = money_part(
        kind=kind, territory_ids=territory_ids, cost=cost, data=data, names=names, read_frame=read_frame
    )
    reach = reach_figures(territory_ids=territory_ids, start=start, end=end)
    tables.update(
        capacity=capacity_table(territory_ids=territory_ids, start=start, end=end),
        reach=reach_table(reach),
        voices=voices_table(figures["indicators"]),
        egalim=egalim_table(territory_ids=territory_ids, start=start, end=end),
        **replication_tables(
            territory_ids=territory_ids, start=start, end=end, names=names, shared_only=kind != "synthesis"
        ),
    )
    figures["tables"].update(tables)
    figures["programme"] = {**money, "reach": reach}


def capacity_table(*, territory_ids: list[int], start: datetime.date, end: datetime.date) -> Table:
    """Each kitchen's least headroom over the period and whether its marginal cost stayed marginal."""
    rows = [row.as_dict() for row in kitchen_capacities(territory_ids=territory_ids, start=start, end=end)]
    return table(
        "capacity",
        _("Capacité des cuisines et marge restante"),
        [
            column("kitchen_name", _("Cuisine"), "text"),
            column("daily_capacity", _("Capacité journalière"), "int"),
            column("usual_daily_production", _("Production habituelle"), "int"),
            column("most_dedicated", _("Repas dédiés, jour le plus chargé"), "int"),
            column("least_headroom", _("Marge la plus faible"), "int"),
            column("days_over", _("Jours au-delà de la capacité"), "int"),
            column("marginal_text", _("Coût marginal"), "text"),
        ],
        rows,
        note=_(
            "Marge d'un jour = capacité − (production habituelle + repas dédiés du jour). Au-delà de la "
            "capacité, le coût d'un repas dédié n'est plus un coût marginal."
        ),
    )


VOICES = ("survey_beneficiary_", "survey_kitchen_staff_")


def voices_table(indicators: list[dict[str, Any]]) -> Table:
    """The answers of the beneficiaries' and kitchen staff's surveys: their indicators, as computed
    once by ``evaluation.indicators`` (one per question), in a table of their own."""
    rows = [
        {
            "label": row["label"],
            "value": row["value"],
            "unit": row["unit"],
            "complete": row["complete"],
            "applicable": row["applicable"],
        }
        for row in indicators
        if row["code"].startswith(VOICES)
    ]
    return table(
        "voices",
        _("La parole des bénéficiaires et des équipes de cuisine"),
        [column("label", _("Question"), "text"), column("value", _("Réponse"), "figure", unit_key="unit")],
        rows,
        note=_(
            "Questionnaires anonymes à questions fermées (modèles « Personnel des cuisines » et "
            "« Satisfaction des bénéficiaires ») : moyenne de 1 à 5, ou part des « oui »."
        ),
    )


EGALIM_SOURCE = gettext_lazy(
    # xgettext:no-python-format
    "Loi EGalim, art. L230-5-1 du Code rural et de la pêche maritime : au moins 50 % de produits "
    "durables et de qualité, dont au moins 20 % de produits bio, en valeur d'achat hors taxes"
)


def egalim_table(*, territory_ids: list[int], start: datetime.date, end: datetime.date) -> Table:
    """Each kitchen's EGalim shares for the years the period touches, with their source; a
    kitchen-year without a declaration is unknown."""
    kitchens = Kitchen.objects.all_territories().filter(territory_id__in=territory_ids).order_by("name")
    years = range(start.year, end.year + 1)
    declared = {
        (row.kitchen_id, row.year): row
        for row in EgalimDeclaration.objects.all_territories().filter(
            kitchen__in=kitchens, year__gte=start.year, year__lte=end.year
        )
    }
    sources = dict(EgalimDeclaration.Source.choices)
    rows = []
    for kitchen in kitchens:
        for year in years:
            row = declared.get((kitchen.pk, year))
            source = _("non déclaré")
            if row is not None:
                source = str(sources[row.source])
                if row.source_reference:
                    source += " " + _("(télédéclaration %(id)s)") % {"id": row.source_reference}
            rows.append(
                {
                    "kitchen": kitchen.name,
                    "year": year,
                    "quality_share": row.quality_share if row else None,
                    "organic_share": row.organic_share if row else None,
                    "complete": row is not None,
                    "source": source,
                }
            )
    return table(
        "egalim",
        _("Part des produits durables et de qualité dans les achats des cuisines (EGalim)"),
        [
            column("kitchen", _("Cuisine"), "text"),
            column("year", _("Année"), "text"),
            column("quality_share", _("Durables et de qualité, bio compris"), "figure", "%"),
            column("organic_share", _("Dont bio"), "figure", "%"),
            column("source", _("Source"), "text"),
        ],
        rows,
        note=_(
            "Déclarées chaque année par les cuisines sur ma-cantine, saisies ou importées de son export. "
            "%(law)s."
        )
        % {"law": EGALIM_SOURCE},
    )
