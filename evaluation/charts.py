"""Charts drawn once on the server as SVG (matplotlib), shown inline by the dashboards and the PDFs.

Every chart is a pure function of plain numbers, so the same data gives the same bytes: the SVG
hash salt is fixed, the date and the creator metadata are dropped, ids are derived from the
chart's code. The markup is then made safe for the strict Content-Security-Policy of the pages
(``style-src 'self'``, which blocks ``<style>`` elements and ``style=""`` attributes, even inside
an inline ``<svg>``): matplotlib's ``style`` attributes become SVG presentation attributes
(``fill="…"``, ``stroke="…"``), which no CSP restricts, and its one ``<style>`` rule moves to the
root element's attributes. Text stays text (``svg.fonttype = "none"``): it can be read, searched
and copied, in the browser and in the PDF.

Each chart carries a ``<title>`` and a ``<desc>`` (its accessible name and description); the
pages print the same numbers in a table under it.
"""

from __future__ import annotations

import datetime
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import matplotlib
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, npgettext, pgettext
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from costing import display

# No display, no pyplot: figures are drawn off screen (``Figure`` needs no global state).
matplotlib.use("Agg")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

# Set once for the process rather than per call: ``rc_context`` saves and restores the global
# parameters, which threads drawing at the same time would interleave.
matplotlib.rcParams.update(
    {
        "svg.hashsalt": "passerelle",
        "svg.fonttype": "none",
        "svg.image_inline": True,
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#5f6b76",
        "axes.labelcolor": "#1f2a33",
        "xtick.color": "#1f2a33",
        "ytick.color": "#1f2a33",
        "legend.frameon": False,
        "hatch.color": "#0b3c5d",
        "hatch.linewidth": 0.8,
    }
)

# Colours with a contrast of 4.5:1 or more on white; series also differ by line style or hatching.
BLUE = "#1f5f8b"
ORANGE = "#b35c00"
GREEN = "#2e7d32"
RED = "#b3261e"
GREY = "#5f6b76"
PALE_BLUE = "#a9c7de"

WIDTH_IN, HEIGHT_IN = 7.2, 3.0

# What matplotlib's one <style> element says, moved onto the root element.
ROOT_STYLE = {"stroke-linejoin": "round", "stroke-linecap": "butt"}
# CSS properties matplotlib writes that are also SVG presentation attributes.
PRESENTATION = {
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-dashoffset",
    "stroke-miterlimit", "opacity", "font-family", "font-size", "font-style", "font-weight",
    "text-anchor", "clip-path", "mask", "display", "visibility", "color",
}  # fmt: skip
URL_REFERENCE = re.compile(r"url\(#([^)]+)\)")


class ChartError(ValueError):
    """matplotlib wrote something the cleaning does not know how to make CSP-safe."""


@dataclass(frozen=True)
class Chart:
    """One chart: its title and text alternative, and the SVG markup to put inline."""

    code: str
    title: str
    description: str
    # Safe to print as it stands: matplotlib escapes every text it draws, and the cleaning
    # below writes attributes through ElementTree, which escapes them too.
    svg: SafeString

    def __str__(self) -> str:
        return self.svg


# --- Numbers and dates as the reader writes them (the active language) ---------------------


def local_number(value: float | Decimal | int | None, decimals: int = 0) -> str:
    """A number in the active language's format ("12 345,68", "12,345.68"); "—" when unknown.
    French thousands are grouped by a narrow no-break space, as French typography writes them."""
    if value is None:
        return "—"
    text = formats.number_format(round(float(value), decimals), decimals, use_l10n=True, force_grouping=True)
    return text.replace("\u00a0", "\u202f")


def meals_unit(count: float) -> str:
    """The unit after a number of meals, agreed with it in the active language ("1 meal", "2 meals")."""
    return npgettext("unité après un nombre", "repas", "repas", round(count))


def figure_label(
    value: float | None,
    *,
    unit: str | Callable[[float], str],
    complete: bool,
    decimals: int,
    short: bool = False,
) -> str:
    """A value printed on a chart with its completeness ("≥ 1,92 €", "at least 1.92 €", "unknown"),
    in the active language, as every figure (``costing.display.figure_text``)."""
    amount = None if value is None else Decimal(repr(value))
    text = display.figure_text(amount, complete=complete, decimals=decimals, short=short)
    # Thousands grouped by a narrow space, as ``local_number`` writes the axes.
    text = text.replace("≥\u00a0", "≥ ").replace("\u00a0", "\u202f")
    if value is None or not unit:
        return text
    return f"{text} {unit(value) if callable(unit) else unit}"


def axis_formatter(decimals: int = 0, suffix: str = "") -> FuncFormatter:
    return FuncFormatter(lambda value, _position: f"{local_number(value, decimals)}{suffix}")


def short_date(iso: str) -> str:
    """A week's Monday under its bar: "06/01" in French, "01/06" in English."""
    day = datetime.date.fromisoformat(iso)
    return formats.date_format(day, pgettext("date format of a week on a chart's axis", "d/m"))


def month_name(iso: str) -> str:
    """A month under its bar, "01/2025" (the same in both languages)."""
    day = datetime.date.fromisoformat(iso)
    return formats.date_format(day, pgettext("date format of a month on a chart's axis", "m/Y"))


def as_float(value: object) -> float | None:
    if value is None or value == "":
        return None
    return float(value)  # type: ignore[arg-type]


# --- Drawing and cleaning -------------------------------------------------------------------


def new_figure(height: float = HEIGHT_IN) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_IN, height))
    axes: Axes = figure.subplots()
    axes.grid(axis="y", color="#d9dee3", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def thin_labels(axes: Axes, labels: Sequence[str], most: int = 14) -> None:
    """Category labels on the x axis, every n-th one when there are many (phones, long periods)."""
    step = max(1, -(-len(labels) // most))
    positions = list(range(len(labels)))
    axes.set_xticks(positions[::step], [labels[i] for i in positions[::step]])
    axes.set_xlim(-0.6, max(len(labels) - 0.4, 0.6))


def to_svg(figure: Figure, *, code: str, title: str, description: str) -> Chart:
    figure.tight_layout(pad=0.6)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return Chart(
        code=code,
        title=title,
        description=description,
        svg=clean_svg(buffer.getvalue(), code=code, title=title, description=description),
    )


def style_attributes(style: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for declaration in style.split(";"):
        if not declaration.strip():
            continue
        name, _colon, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name not in PRESENTATION:
            raise ChartError(f"Propriété de style inattendue dans le SVG : {name}")
        if name == "font-family":
            value = f"{value}, sans-serif"
        attributes[name] = value
    return attributes


def clean_svg(raw: str, *, code: str, title: str, description: str) -> SafeString:
    """matplotlib's SVG made CSP-safe, accessible and unique on a page (ids prefixed by ``code``)."""
    root = ET.fromstring(raw)  # noqa: S314 - matplotlib's own output
    svg, xlink_href = f"{{{SVG_NS}}}", f"{{{XLINK_NS}}}href"

    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{svg}metadata":
                parent.remove(child)
            elif child.tag == f"{svg}style":
                if (child.text or "").strip() != "*{stroke-linejoin: round; stroke-linecap: butt}":
                    raise ChartError("Feuille de style inattendue dans le SVG.")
                parent.remove(child)

    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{svg}defs" and not len(child):
                parent.remove(child)

    def prefixed(identifier: str) -> str:
        return f"{code}-{identifier}"

    for element in root.iter():
        if "style" in element.attrib:
            style = element.attrib.pop("style")
            for name, value in style_attributes(style).items():
                element.set(name, value)
        if "id" in element.attrib:
            element.set("id", prefixed(element.attrib["id"]))
        for name, value in list(element.attrib.items()):
            if name == xlink_href and value.startswith("#"):
                element.set(name, f"#{prefixed(value[1:])}")
            elif "url(#" in value:
                element.set(name, URL_REFERENCE.sub(lambda match: f"url(#{prefixed(match[1])})", value))

    for name, value in ROOT_STYLE.items():
        root.set(name, value)
    root.set("role", "img")
    root.set("class", "chart-svg")
    root.set("aria-labelledby", f"{code}-title")
    root.set("aria-describedby", f"{code}-desc")
    title_element = ET.Element(f"{svg}title", {"id": f"{code}-title"})
    title_element.text = title
    desc_element = ET.Element(f"{svg}desc", {"id": f"{code}-desc"})
    desc_element.text = description
    root.insert(0, desc_element)
    root.insert(0, title_element)
    # Tags written without a prefix under a plain xmlns attribute: ElementTree's namespace map is
    # global, and another library registering its own default namespace would make it write
    # "ns0:" prefixes.
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(svg):
            element.tag = element.tag[len(svg) :]
    attributes = {"xmlns": SVG_NS, **root.attrib}
    root.attrib.clear()
    root.attrib.update(attributes)
    ET.register_namespace("xlink", XLINK_NS)
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308


# --- The charts -----------------------------------------------------------------------------


def weekly_flow_chart(
    *, code: str, weeks: Sequence[str], meals: Sequence[int], people: Sequence[int]
) -> Chart:
    """Meals distributed and people served, week by week (weeks as the ISO date of their Monday)."""
    title = _("Repas distribués et passages (personnes servies), par semaine")
    figure, axes = new_figure()
    positions = list(range(len(weeks)))
    axes.plot(
        positions, meals, color=BLUE, marker="o", markersize=3.5, linewidth=1.8, label=_("Repas distribués")
    )
    axes.plot(
        positions,
        people,
        color=ORANGE,
        marker="s",
        markersize=3.5,
        linewidth=1.6,
        linestyle="--",
        label=_("Passages (personnes servies)"),
    )
    thin_labels(axes, [short_date(week) for week in weeks])
    axes.set_xlabel(_("Semaine du"))
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    axes.yaxis.set_major_formatter(axis_formatter())
    axes.legend(loc="upper left", ncols=2)
    total_meals, total_people = sum(meals), sum(people)
    description = " ".join(
        [
            ngettext(
                "%(weeks)s semaine : %(meals)s repas distribués et %(people)s passages (personnes "
                "servies) au total.",
                "%(weeks)s semaines : %(meals)s repas distribués et %(people)s passages (personnes "
                "servies) au total.",
                len(weeks),
            )
            % {"weeks": len(weeks), "meals": local_number(total_meals), "people": local_number(total_people)},
            _("Les chiffres de chaque semaine figurent dans le tableau qui suit."),
        ]
    )
    return to_svg(figure, code=code, title=title, description=description)


def monthly_cost_chart(
    *, code: str, months: Sequence[str], values: Sequence[object], complete: Sequence[bool]
) -> Chart:
    """The full cost per meal distributed, month by month; incomplete months are hatched."""
    title = _("Coût complet par repas distribué, par mois")
    figure, axes = new_figure()
    positions = list(range(len(months)))
    numbers = [as_float(value) for value in values]
    heights = [number or 0.0 for number in numbers]
    bars = axes.bar(positions, heights, width=0.6, color=BLUE, edgecolor=BLUE, linewidth=0.8)
    for bar, number, whole in zip(bars, numbers, complete, strict=True):
        if not whole:
            bar.set_facecolor(PALE_BLUE)
            bar.set_hatch("///")
        label = figure_label(number, unit="€", complete=whole, decimals=2, short=True)
        axes.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    thin_labels(axes, [month_name(month) for month in months])
    axes.set_ylim(bottom=0, top=max([*heights, 1.0]) * 1.2)
    axes.set_ylabel(_("€ par repas"))
    axes.yaxis.set_major_formatter(axis_formatter(2))
    if all(number is None for number in numbers):
        axes.set_yticks([])  # no scale for values nobody knows: "0,00" would read as a cost
    axes.legend(
        handles=[
            Patch(facecolor=BLUE, edgecolor=BLUE, label=_("Mois complet")),
            Patch(facecolor=PALE_BLUE, edgecolor=BLUE, hatch="///", label=_("Mois incomplet (au moins)")),
        ],
        loc="upper left",
        ncols=2,
    )
    incomplete = [month_name(month) for month, whole in zip(months, complete, strict=True) if not whole]
    values_text = _(" ; ").join(
        _("%(label)s : %(value)s")
        % {"label": month_name(month), "value": figure_label(number, unit="€", complete=whole, decimals=2)}
        for month, number, whole in zip(months, numbers, complete, strict=True)
    )
    description = " ".join(
        [
            _("Coût complet par repas distribué pour chaque mois de la période : %(values)s.")
            % {"values": values_text},
            _("Mois incomplets (données manquantes, valeur minimale) : %(months)s.")
            % {"months": ", ".join(incomplete)}
            if incomplete
            else _("Tous les mois sont complets."),
        ]
    )
    return to_svg(figure, code=code, title=title, description=description)


def temperature_chart(
    *, code: str, months: Sequence[str], checked: Sequence[int], within: Sequence[int]
) -> Chart:
    """The share of pickups received within the temperature bounds, month by month."""
    title = _("Collectes reçues dans les limites de température, par mois")
    figure, axes = new_figure()
    positions = list(range(len(months)))
    shares = [
        (100.0 * inside / total) if total else None for inside, total in zip(within, checked, strict=True)
    ]
    bars = axes.bar(positions, [share or 0.0 for share in shares], width=0.6, color=GREEN)
    for bar, share, inside, total in zip(bars, shares, within, checked, strict=True):
        label = (
            _("aucune collecte")
            if share is None
            else _("%(share)s %% (%(inside)s/%(total)s)")
            % {"share": local_number(share, 1), "inside": inside, "total": total}
        )
        axes.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    axes.axhline(100, color=GREY, linewidth=0.8, linestyle=":")
    thin_labels(axes, [month_name(month) for month in months])
    axes.set_ylim(0, 115)
    axes.set_yticks([0, 25, 50, 75, 100])
    axes.yaxis.set_major_formatter(axis_formatter(0, " %"))
    axes.set_ylabel(_("Part des collectes"))
    total, inside_total = sum(checked), sum(within)
    description = (
        ngettext(
            "Sur la période, %(inside)s collecte sur %(total)s a été reçue à +3 °C ou moins "
            "(liaison froide) ou à 63 °C ou plus (liaison chaude).",
            "Sur la période, %(inside)s collectes sur %(total)s ont été reçues à +3 °C ou moins "
            "(liaison froide) ou à 63 °C ou plus (liaison chaude).",
            inside_total,
        )
        % {"inside": local_number(inside_total), "total": local_number(total)}
        if total
        else _("Aucune collecte sur la période.")
    )
    return to_svg(figure, code=code, title=title, description=description)


def losses_chart(*, code: str, months: Sequence[str], lost: Sequence[int], rates: Sequence[object]) -> Chart:
    """Meals lost month by month (``costing.losses``), with the month's loss rate above each bar."""
    title = _("Repas perdus et taux de perte, par mois")
    figure, axes = new_figure()
    positions = list(range(len(months)))
    bars = axes.bar(positions, lost, width=0.6, color=RED)
    for bar, rate in zip(bars, rates, strict=True):
        number = as_float(rate)
        axes.annotate(
            "—" if number is None else _("%(share)s %%") % {"share": local_number(number, 1)},
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    thin_labels(axes, [month_name(month) for month in months])
    axes.set_ylim(bottom=0, top=max([*lost, 1]) * 1.25)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    axes.yaxis.set_major_formatter(axis_formatter())
    axes.set_ylabel(_("Repas perdus"))
    description = ngettext(
        "%(lost)s repas perdu sur la période (écarté, manquant à la collecte, non collecté avant la "
        "DLC ou retiré par un rappel) ; le taux de perte de chaque mois (repas perdus ÷ repas "
        "distribués ou perdus) est inscrit au-dessus de sa barre.",
        "%(lost)s repas perdus sur la période (écartés, manquants à la collecte, non collectés avant "
        "la DLC ou retirés par un rappel) ; le taux de perte de chaque mois (repas perdus ÷ repas "
        "distribués ou perdus) est inscrit au-dessus de sa barre.",
        sum(lost),
    ) % {"lost": local_number(sum(lost))}
    return to_svg(figure, code=code, title=title, description=description)


def comparison_chart(
    *,
    code: str,
    title: str,
    names: Sequence[str],
    values: Sequence[object],
    complete: Sequence[bool],
    unit: str | Callable[[float], str],
    decimals: int = 0,
) -> Chart:
    """One figure side by side for every territory (horizontal bars; incomplete ones hatched)."""
    height = max(1.6, 0.9 + 0.42 * len(names))
    figure, axes = new_figure(height)
    axes.grid(axis="x", color="#d9dee3", linewidth=0.6)
    axes.grid(axis="y", visible=False)
    numbers = [as_float(value) for value in values]
    positions = list(range(len(names)))
    bars = axes.barh(
        positions, [number or 0.0 for number in numbers], height=0.55, color=BLUE, edgecolor=BLUE
    )
    for bar, number, whole in zip(bars, numbers, complete, strict=True):
        if not whole:
            bar.set_facecolor(PALE_BLUE)
            bar.set_hatch("///")
        label = figure_label(number, unit=unit, complete=whole, decimals=decimals, short=True)
        axes.annotate(
            label,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.set_yticks(positions, list(names))
    axes.invert_yaxis()
    axes.set_xlim(0, max([*(number or 0.0 for number in numbers), 1.0]) * 1.3)
    axes.xaxis.set_major_formatter(axis_formatter(decimals))
    if all(number is None for number in numbers):
        axes.set_xticks([])  # no scale for values nobody knows
    parts = [
        _("%(label)s : %(value)s")
        % {"label": name, "value": figure_label(number, unit=unit, complete=whole, decimals=decimals)}
        for name, number, whole in zip(names, numbers, complete, strict=True)
    ]
    return to_svg(figure, code=code, title=title, description=_(" ; ").join(parts) + ".")


# --- The charts of a set of figures (``evaluation.figures``) ----------------------------------


def charts_of(figures: dict) -> dict[str, Chart]:
    """The charts of a dashboard or a report, drawn from its (possibly frozen) tables alone."""
    tables = figures["tables"]
    charts: dict[str, Chart] = {}
    weekly = tables["weekly"]["rows"]
    charts["weekly"] = weekly_flow_chart(
        code="chart-weekly",
        weeks=[row["week"] for row in weekly],
        meals=[row["meals_distributed"] for row in weekly],
        people=[row["people_served"] for row in weekly],
    )
    costs = tables["monthly_costs"]["rows"]
    charts["monthly_costs"] = monthly_cost_chart(
        code="chart-costs",
        months=[row["month"] for row in costs],
        values=[row["full_cost_per_meal"] for row in costs],
        complete=[row["complete"] for row in costs],
    )
    temperature = tables["temperature"]["rows"]
    charts["temperature"] = temperature_chart(
        code="chart-temperature",
        months=[row["month"] for row in temperature],
        checked=[row["pickups"] for row in temperature],
        within=[row["pickups_within"] for row in temperature],
    )
    losses = tables["losses"]["rows"]
    charts["losses"] = losses_chart(
        code="chart-losses",
        months=[row["month"] for row in losses],
        lost=[row["meals_lost"] for row in losses],
        rates=[row["loss_rate"] for row in losses],
    )
    if "comparison" in tables:
        charts.update(comparison_charts(tables["comparison"]["rows"]))
    return charts


# A bar per territory stays readable up to this many; beyond, the charts show the territories
# that distribute the most meals (the table under them lists every one).
COMPARISON_MOST = 30


def comparison_charts(rows: Sequence[dict]) -> dict[str, Chart]:
    meals_title = _("Repas distribués par territoire")
    cost_title = _("Coût complet par repas distribué, par territoire")
    if len(rows) > COMPARISON_MOST:
        rows = sorted(rows, key=lambda row: -int(row["meals_distributed"] or 0))[:COMPARISON_MOST]
        most = _("(les %(count)s territoires qui distribuent le plus de repas)") % {"count": COMPARISON_MOST}
        meals_title, cost_title = f"{meals_title} {most}", f"{cost_title} {most}"
    names = [row["territory"] for row in rows]
    return {
        "comparison_meals": comparison_chart(
            code="chart-comparison-meals",
            title=meals_title,
            names=names,
            values=[row["meals_distributed"] for row in rows],
            complete=[True for _row in rows],
            unit=meals_unit,
        ),
        "comparison_cost": comparison_chart(
            code="chart-comparison-cost",
            title=cost_title,
            names=names,
            values=[row["full_cost_per_meal"] for row in rows],
            complete=[row["full_cost_complete"] for row in rows],
            unit="€",
            decimals=2,
        ),
    }
