# ruff: noqa: RUF001, RUF002, RUF003 - the method is written with the signs × and − of French arithmetic
"""Who pays for a meal: the gross and net cost per payer, and the full cost with the kitchen's
fixed share, beside the cost method (``costing.services``), over the same whole months.

**Net cost per payer.** The cost method's total (``total_cost``) is borne, before any payment,
by the kitchens (their marginal costs), the associations (their cash costs and the transport of
the pickups they collect) and the authorities (coordination). Then money moves:

- a CCAS pays the kitchen for dedicated meals at the convention's price: the authority's net
  cost rises by it, the kitchen's falls;
- an association pays the kitchen for dedicated meals: the association's rises, the kitchen's
  falls;
- the beneficiaries' contributions go to the association: the association's falls, and the
  beneficiaries bear that much;
- another revenue goes to whoever receives it (``Revenue.received_by``), borne by "others";
- a grant goes to its recipient (``Funding.recipient``), prorata temporis over the period,
  borne by the funders.

net cost of a payer = what it bears + what it pays − what it receives, and the net costs of the
kitchens, associations, authorities, funders, beneficiaries and others sum to the total cost.
Per meal: ÷ meals distributed. A net cost inherits the missing inputs of the costs it is built
on, and is then a lower bound ("au moins"), as any cost; a convention with a price per meal
whose dedicated meals of a month have no payment entered lacks that payment, and the net costs
of the kitchens, associations and authorities are then printed "X (incomplet)": a missing
payment moves money between them, so the known part is no bound.

**Full cost with the kitchen's fixed share** (optional, apart). A kitchen's fixed costs of a year
÷ its meals produced that year = its fixed cost per meal (``KitchenFixedCost``). The fixed
share of the programme = Σ per kitchen and year (dedicated meals of the period × fixed cost per
meal); surplus meals bear none (they were produced, and their fixed costs borne, for the
kitchen's own diners). full cost with fixed share = (total cost + fixed share) ÷ meals
distributed, compared with the full cost of a school meal, 7 to 13 € (ADEME, Basic and Citexia,
« Coûts complets et recettes financières de la restauration scolaire », October 2023;
docs/methodology.md, « Les repères publiés »).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.models import Partnership

from .budget import add_figure, funding_share
from .models import Funding, KitchenFixedCost, Revenue
from .selectors import FrameReader, rollup_frame
from .services import (
    EURO,
    PER_MEAL,
    CostReport,
    Figure,
    InputUsed,
    Partial,
    as_json,
    figure_from,
    last_of_month,
    month_label,
    not_applicable,
    ratio_figure,
    rounded,
)

# The full cost of a school meal, the reference the full cost with the fixed share is set beside.
SCHOOL_MEAL_FULL_COST = (Decimal(7), Decimal(13))
SCHOOL_MEAL_SOURCE = gettext_lazy(
    "ADEME, Basic et Citexia, « Coûts complets et recettes financières de la restauration scolaire », "
    "octobre 2023 : 7 à 13 € par repas"
)

PAYERS = ("kitchen", "association", "authority", "funders", "beneficiaries", "others")
OUTSIDE_PAYERS = ("funders", "beneficiaries", "others")


def payer_label(payer: str) -> str:
    return {
        "kitchen": _("Cuisines"),
        "association": _("Associations"),
        "authority": _("Collectivités"),
        "funders": _("Financeurs"),
        "beneficiaries": _("Bénéficiaires"),
        "others": _("Autres recettes"),
    }[payer]


@dataclass
class Transfers:
    """The money that moved over the months: revenues by kind and receiver, grants by recipient,
    and the payments of dedicated meals expected but not entered."""

    ccas_payments: Decimal = Decimal(0)
    association_payments: Decimal = Decimal(0)
    beneficiaries: Decimal = Decimal(0)
    other_by_receiver: dict[str, Decimal] | None = None
    grants_by_recipient: dict[str, Decimal] | None = None
    missing_payments: tuple[str, ...] = ()
    # The payers outside the partnership that something was recorded for (a grant, a revenue):
    # the others have no row, rather than a zero nobody entered.
    recorded: frozenset[str] = frozenset()

    def other(self, receiver: str) -> Decimal:
        return (self.other_by_receiver or {}).get(receiver, Decimal(0))

    def grant(self, recipient: str) -> Decimal:
        return (self.grants_by_recipient or {}).get(recipient, Decimal(0))


def transfers_of(
    *, territory_ids: list[int], months: list[datetime.date], read_frame: FrameReader = rollup_frame
) -> Transfers:
    """Reads the revenues and grants of the months, and which priced conventions' dedicated meals
    have no payment entered (from the roll-up frame of the months)."""
    start, end = months[0], last_of_month(months[-1])
    revenues = Revenue.objects.all_territories().filter(
        territory_id__in=territory_ids, month__gte=start, month__lte=end
    )
    transfers = Transfers(other_by_receiver=defaultdict(Decimal), grants_by_recipient=defaultdict(Decimal))
    paid: set[tuple[int, datetime.date]] = set()
    recorded = set()
    for revenue in revenues:
        amount = revenue.amount or Decimal(0)
        if revenue.kind == Revenue.Kind.BENEFICIARIES:
            recorded.add("beneficiaries")
        elif revenue.kind == Revenue.Kind.OTHER:
            recorded.add("others")
        if revenue.kind == Revenue.Kind.CCAS_PAYMENT:
            transfers.ccas_payments += amount
        elif revenue.kind == Revenue.Kind.ASSOCIATION_PAYMENT:
            transfers.association_payments += amount
        elif revenue.kind == Revenue.Kind.BENEFICIARIES:
            transfers.beneficiaries += amount
        else:
            transfers.other_by_receiver[revenue.received_by] += amount  # type: ignore[index]
        if revenue.partnership_id:
            paid.add((revenue.partnership_id, revenue.month))
    # Dedicated meals of a convention with a price, in a month without a payment entered: read
    # from the report's roll-up frame over these months (the cost method's read, not another).
    frame = read_frame(territory_ids=territory_ids, start=start, end=end)
    dedicated = (
        frame[frame["meals_produced_dedicated"] > 0]
        .groupby(["month", "partnership"], as_index=False, sort=True)
        .agg(kitchen=("kitchen_name", "first"), association=("association_name", "first"))
    )
    priced = set()
    if not dedicated.empty:
        priced = set(
            Partnership.objects.all_territories()
            .filter(pk__in=dedicated["partnership"].unique().tolist(), price_per_meal__isnull=False)
            .values_list("pk", flat=True)
        )
    missing = []
    for row in dedicated.itertuples(index=False):
        month = row.month.date() if isinstance(row.month, datetime.datetime) else row.month
        if row.partnership in priced and (row.partnership, month) not in paid:
            missing.append(
                _("%(kitchen)s → %(association)s, %(month)s : paiement des repas dédiés non saisi")
                % {"kitchen": row.kitchen, "association": row.association, "month": month_label(month)}
            )
    transfers.missing_payments = tuple(missing)
    for funding in Funding.objects.all_territories().filter(
        territory_id__in=territory_ids, period_start__lte=end, period_end__gte=start
    ):
        share = funding_share(funding, start, end)
        transfers.grants_by_recipient[funding.recipient] += funding.amount * share  # type: ignore[index]
        recorded.add("funders")
    transfers.recorded = frozenset(recorded)
    return transfers


def net_cost_figures(cost: CostReport, transfers: Transfers) -> list[dict[str, Any]]:
    """Each payer's gross and net cost, in euros and per meal distributed (the module's rule)."""
    meals = cost.volumes.meals_distributed
    kitchen, transport = cost.figure("kitchen_cost"), cost.figure("transport_cost")
    association, coordination = cost.figure("association_cost"), cost.figure("coordination_cost")
    missing_payments = list(transfers.missing_payments)

    def partial_of(*figures: Figure) -> Partial:
        partial = Partial()
        for item in figures:
            add_figure(partial, item)
        return partial

    def known(amount: Decimal) -> Partial:
        partial = Partial()
        partial.add(amount)
        return partial

    gross = {
        "kitchen": partial_of(kitchen),
        "association": partial_of(association, transport),
        "authority": partial_of(coordination),
        "funders": known(
            sum(transfers.grants_by_recipient.values(), Decimal(0))
            if transfers.grants_by_recipient
            else Decimal(0)
        ),
        "beneficiaries": known(transfers.beneficiaries),
        "others": known(
            sum(transfers.other_by_receiver.values(), Decimal(0))
            if transfers.other_by_receiver
            else Decimal(0)
        ),
    }
    moves = {
        "kitchen": -transfers.ccas_payments - transfers.association_payments,
        "association": transfers.association_payments - transfers.beneficiaries,
        "authority": transfers.ccas_payments,
        "funders": Decimal(0),
        "beneficiaries": Decimal(0),
        "others": Decimal(0),
    }
    receivers = {"kitchen": "kitchen", "association": "association", "authority": "authority"}
    rows = []
    for payer in PAYERS:
        if payer in OUTSIDE_PAYERS and payer not in transfers.recorded:
            continue
        label = payer_label(payer)
        gross_figure = figure_from(gross[payer], key=f"gross_{payer}", label=label, unit=EURO, method="")
        exact = None
        if gross_figure.exact is not None:
            exact = gross_figure.exact + moves[payer]
            if payer in receivers:
                exact -= transfers.other(receivers[payer]) + transfers.grant(receivers[payer])
        missing = list(gross_figure.missing)
        if payer in ("kitchen", "association", "authority") and missing_payments:
            missing.extend(missing_payments)
        net_figure = Figure(
            key=f"net_{payer}",
            label=label,
            unit=EURO,
            value=rounded(exact),
            method="",
            missing=missing,
            exact=exact,
        )
        per_meal = {
            name: ratio_figure(
                key=f"net_{payer}_{name}_per_meal",
                label=label,
                unit=PER_MEAL,
                method="",
                numerator=figure,
                denominator=meals,
                denominator_label=_("repas distribués"),
            )
            for name, figure in (("gross", gross_figure), ("net", net_figure))
        }
        # Only a missing payment makes the known part no bound ("net_": ``costing.display.is_bound``);
        # a missing cost leaves it a lower bound, as any cost.
        unbound = payer in ("kitchen", "association", "authority") and bool(missing_payments)
        rows.append(
            {
                "payer": payer,
                "key": f"net_cost_{payer}" if unbound else f"payer_cost_{payer}",
                "label": label,
                "gross": as_json(gross_figure.value),
                "gross_per_meal": as_json(per_meal["gross"].value),
                "net": as_json(net_figure.value),
                "net_per_meal": as_json(per_meal["net"].value),
                "complete": net_figure.complete and per_meal["net"].complete,
                "missing": list(dict.fromkeys(per_meal["net"].missing)),
            }
        )
    return rows


# --- Full cost with the kitchen's fixed share ----------------------------------------------


def fixed_cost_of(entry: KitchenFixedCost, meals: int = 1) -> Decimal:
    """The share of a kitchen's fixed costs of a year that ``meals`` of its meals bear: fixed
    costs of the year × meals ÷ meals produced that year (for one meal, its fixed cost per meal).
    Exact: rounding is left to whoever prints it."""
    return entry.fixed_costs * meals / entry.meals_produced


def fixed_cost_figures(cost: CostReport) -> dict[str, Any]:
    """The marginal cost, the programme's cost and the full cost with the kitchens' fixed share,
    per meal, and where the last lies against the full cost of a school meal."""
    per_kitchen_year: dict[tuple[int, int], tuple[str, int]] = {}
    for row in cost.kitchens:
        key = (row.kitchen_id, row.month.year)
        name, meals = per_kitchen_year.get(key, (row.kitchen_name, 0))
        per_kitchen_year[key] = (name, meals + row.dedicated_meals)
    fixed = {
        (entry.kitchen_id, entry.year): entry
        for entry in KitchenFixedCost.objects.all_territories().filter(
            kitchen_id__in={kitchen for kitchen, _year in per_kitchen_year},
            year__in={year for _kitchen, year in per_kitchen_year},
        )
    }
    share, dedicated = Partial(), 0
    for (kitchen_id, year), (name, meals) in sorted(per_kitchen_year.items()):
        if not meals:
            continue
        dedicated += meals
        entry = fixed.get((kitchen_id, year))
        if share.recording:
            share.use(_("%(kitchen)s, %(year)s : repas dédiés") % {"kitchen": name, "year": year}, meals)
        if entry is None:
            share.lack(
                _("%(kitchen)s, %(year)s : coûts fixes de la cuisine non saisis")
                % {"kitchen": name, "year": year}
            )
        else:
            share.add(fixed_cost_of(entry, meals))
    fixed_share = figure_from(
        share,
        key="fixed_share",
        label=_("Part des coûts fixes des cuisines"),
        unit=EURO,
        method=_(
            "Σ par cuisine et par année (repas dédiés × coûts fixes de l'année "
            "÷ repas produits dans l'année)."
        ),
    )
    if dedicated:
        fixed_per_meal = figure_from(
            share,
            key="fixed_cost_per_dedicated_meal",
            label=_("Coût fixe par repas dédié"),
            unit=PER_MEAL,
            method=_("Part des coûts fixes ÷ repas dédiés."),
            divisor=dedicated,
        )
    else:
        fixed_per_meal = not_applicable(
            key="fixed_cost_per_dedicated_meal",
            label=_("Coût fixe par repas dédié"),
            unit=PER_MEAL,
            method="",
            why=_("Sans objet : aucun repas dédié sur la période."),
        )
    total = cost.figure("total_cost")
    with_fixed = Partial()
    add_figure(with_fixed, total)
    add_figure(with_fixed, fixed_share)
    total_with_fixed = figure_from(with_fixed, key="total_with_fixed", label="", unit=EURO, method="")
    full_with_fixed = ratio_figure(
        key="full_cost_with_fixed_share",
        label=_("Coût complet par repas distribué, part des coûts fixes des cuisines comprise"),
        unit=PER_MEAL,
        method=_("(Coût total + part des coûts fixes des cuisines) ÷ repas distribués."),
        numerator=total_with_fixed,
        denominator=cost.volumes.meals_distributed,
        denominator_label=_("repas distribués"),
    )
    low, high = SCHOOL_MEAL_FULL_COST
    position = None
    if full_with_fixed.exact is not None and full_with_fixed.complete:
        position = (
            "below" if full_with_fixed.exact < low else "above" if full_with_fixed.exact > high else "within"
        )
    figures = [
        cost.figure("marginal_cost_dedicated"),
        cost.figure("full_cost_per_meal"),
        fixed_per_meal,
        full_with_fixed,
    ]
    return {
        "figures": [figure.as_dict() for figure in figures],
        "fixed_share": fixed_share.as_dict(),
        "reference": {"low": as_json(low), "high": as_json(high), "source": str(SCHOOL_MEAL_SOURCE)},
        "position": position,
        "inputs": [item.as_dict() for item in share.inputs if isinstance(item, InputUsed)],
    }
