"""The main menu and each role's landing page, defined once.

``MENU`` is the menu as a table: one line per item, in the order shown, with the URL name, the
label, the section that marks it current (a view's ``nav_section``), the roles that see it, and
optionally a predicate that says whether the page holds something for this user (``holds``) or
a function giving its address when it takes arguments (``href``; ``None`` hides the item).
A role sees only the pages that hold something for it: a funder gets its territories'
dashboards and the reports, not the week's batches. Adding a page to the menu is one line::

    item("survey-list", _("Questionnaires"), "surveys", {AUTHORITY, EVALUATOR}),

``LANDING`` says where each role starts its day, after login and on "/". The base layout
renders ``main_menu`` (given by the ``navigation`` context processor); ``docs/roles.md``
lists the resulting menus and landing pages, and ``tests/territories/test_navigation.py``
asserts them role by role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role
from .scoping import memberships_of

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.utils.functional import _StrOrPromise

    from .models import Membership

KITCHEN = Role.KITCHEN_MANAGER.value
VOLUNTEER = Role.VOLUNTEER.value
ASSOCIATION = Role.ASSOCIATION_COORDINATOR.value
AUTHORITY = Role.AUTHORITY_COORDINATOR.value
EVALUATOR = Role.EVALUATOR.value
FUNDER = Role.FUNDER.value

# The people of an association: they collect and distribute.
ASSOCIATION_PEOPLE = frozenset({VOLUNTEER, ASSOCIATION})
# The roles that work inside one territory's records (every role but the funder and the volunteer).
TERRITORY_STAFF = frozenset({KITCHEN, ASSOCIATION, AUTHORITY, EVALUATOR})


@dataclass
class Viewer:
    """The user the menu is drawn for, with their memberships read once."""

    user: Any

    @cached_property
    def memberships(self) -> list[Membership]:
        return memberships_of(self.user)

    @cached_property
    def roles(self) -> frozenset[str]:
        roles = {membership.role for membership in self.memberships}
        if not roles and self.user.is_superuser:
            # A superuser without a membership sees every territory, like an evaluator.
            roles = {EVALUATOR}
        return frozenset(roles)

    def first(self, role: str, attribute: str) -> Any:
        """The ``attribute`` (``kitchen_id``…) of the first membership of ``role`` that has one."""
        for membership in self.memberships:
            if membership.role == role and getattr(membership, attribute):
                return getattr(membership, attribute)
        return None

    @cached_property
    def territory_ids(self) -> set[int]:
        """The territories of the user's territorial and funder memberships (evaluators: none named)."""
        ids: set[int] = set()
        for membership in self.memberships:
            if membership.role == FUNDER:
                ids.update(membership.funded_territory_ids)
            elif membership.territory_id:
                ids.add(membership.territory_id)
        return ids

    @property
    def only_territory_id(self) -> int | None:
        """The user's territory when there is exactly one and no role spans them all."""
        if EVALUATOR in self.roles or len(self.territory_ids) != 1:
            return None
        return next(iter(self.territory_ids))


@dataclass(frozen=True)
class MenuItem:
    """One entry of the main menu."""

    url_name: str
    label: _StrOrPromise
    section: str
    roles: frozenset[str]
    holds: Callable[[Viewer], bool] | None = None
    href: Callable[[Viewer], str | None] | None = None

    def link_for(self, viewer: Viewer) -> MenuLink | None:
        if not self.roles & viewer.roles:
            return None
        if self.holds is not None and not self.holds(viewer):
            return None
        href = self.href(viewer) if self.href is not None else reverse(self.url_name)
        if href is None:
            return None
        return MenuLink(label=self.label, href=href, section=self.section, url_name=self.url_name)


@dataclass(frozen=True)
class MenuLink:
    """A menu item as one user sees it."""

    label: _StrOrPromise
    href: str
    section: str
    url_name: str


def item(
    url_name: str,
    label: _StrOrPromise,
    section: str,
    roles: Iterable[str],
    *,
    holds: Callable[[Viewer], bool] | None = None,
    href: Callable[[Viewer], str | None] | None = None,
) -> MenuItem:
    return MenuItem(url_name, label, section, frozenset(roles), holds, href)


# Addresses that take an argument: the user's own kitchen, association or territory.


def own_kitchen_costs(viewer: Viewer) -> str | None:
    kitchen_id = viewer.first(KITCHEN, "kitchen_id")
    return reverse("kitchen-cost-input", kwargs={"pk": kitchen_id}) if kitchen_id else None


def own_association_costs(viewer: Viewer) -> str | None:
    association_id = viewer.first(ASSOCIATION, "association_id")
    return reverse("association-cost-input", kwargs={"pk": association_id}) if association_id else None


def own_territory_dashboard(viewer: Viewer) -> str | None:
    territory_id = viewer.only_territory_id
    return reverse("territory-dashboard", kwargs={"pk": territory_id}) if territory_id else None


def shared_journal_entries(viewer: Viewer) -> bool:
    """A funder's journal holds the entries shared with funders, which may be none."""
    if viewer.roles - {FUNDER}:
        return True
    from evaluation.models import JournalEntry

    return JournalEntry.objects.for_user(viewer.user).exists()


MENU: tuple[MenuItem, ...] = (
    item("batch-create", _("Déclarer un lot"), "batch-create", {KITCHEN}),
    item("kitchen-batches", _("Mes lots"), "kitchen-batches", {KITCHEN}),
    item("kitchen-cost-input", _("Saisir les coûts"), "kitchen-costs", {KITCHEN}, href=own_kitchen_costs),
    item("pickup-todo", _("À collecter"), "pickup-todo", ASSOCIATION_PEOPLE),
    item("distribution-todo", _("À distribuer"), "distribution-todo", ASSOCIATION_PEOPLE),
    item("offer-list", _("Offres d'excédents"), "offers", {KITCHEN, *ASSOCIATION_PEOPLE}),
    item("round-slot-list", _("Tournées de collecte"), "rounds", {KITCHEN, *ASSOCIATION_PEOPLE}),
    item("territory-comparison", _("Comparaison"), "comparison", {EVALUATOR}),
    item("flow-week", _("Flux de la semaine"), "flow-week", {ASSOCIATION, AUTHORITY, EVALUATOR}),
    item(
        "territory-dashboard",
        _("Tableau de bord"),
        "dashboard",
        {AUTHORITY, FUNDER},
        href=own_territory_dashboard,
    ),
    item("batch-week", _("Lots de la semaine"), "batch-week", {AUTHORITY, EVALUATOR}),
    item(
        "association-cost-input",
        _("Saisir les coûts"),
        "association-costs",
        {ASSOCIATION},
        href=own_association_costs,
    ),
    # The volunteers a coordinator sends sign-in links to (territories.sign_in_links).
    item("volunteer-list", _("Bénévoles"), "volunteers", {ASSOCIATION, AUTHORITY}),
    item("donation-receipt-list", _("Reçus de dons"), "receipts", {KITCHEN, ASSOCIATION}),
    item("journal-list", _("Journal"), "journal", {*TERRITORY_STAFF, FUNDER}, holds=shared_journal_entries),
    item("survey-list", _("Questionnaires"), "surveys", {AUTHORITY, EVALUATOR}),
    item("report-list", _("Rapports"), "reports", {AUTHORITY, EVALUATOR, FUNDER}),
    item("territory-list", _("Territoires"), "territories", {*TERRITORY_STAFF, FUNDER}),
    item("kitchen-list", _("Cuisines"), "kitchens", {KITCHEN, AUTHORITY, EVALUATOR}),
    item("association-list", _("Associations"), "associations", {ASSOCIATION, AUTHORITY, EVALUATOR}),
    item("partnership-list", _("Partenariats"), "partnerships", TERRITORY_STAFF),
)


def menu_for(user: Any, menu: Iterable[MenuItem] = MENU) -> list[MenuLink]:
    """The menu items ``user`` sees, in the table's order."""
    if user is None or not user.is_authenticated:
        return []
    viewer = Viewer(user)
    return [link for link in (entry.link_for(viewer) for entry in menu) if link is not None]


# Landing pages: where each role's day starts.


def funder_landing(viewer: Viewer, membership: Membership) -> str | None:
    """Its territory's dashboard when it funds one territory; the list of its territories
    (each with its dashboard) otherwise."""
    funded = membership.funded_territory_ids
    if len(funded) == 1:
        return reverse("territory-dashboard", kwargs={"pk": funded[0]})
    return reverse("territory-list")


def landing(url_name: str, needs: str = "") -> Callable[[Viewer, Membership], str | None]:
    """A landing page by URL name, for a membership that names ``needs`` (``kitchen_id``…)."""

    def target(viewer: Viewer, membership: Membership) -> str | None:
        if needs and not getattr(membership, needs):
            return None
        return reverse(url_name)

    return target


LANDING: dict[str, Callable[[Viewer, Membership], str | None]] = {
    KITCHEN: landing("batch-create", needs="kitchen_id"),
    VOLUNTEER: landing("pickup-todo", needs="association_id"),
    ASSOCIATION: landing("flow-week", needs="association_id"),
    AUTHORITY: landing("flow-week", needs="territory_id"),
    EVALUATOR: landing("territory-comparison"),
    FUNDER: funder_landing,
}


def landing_url_for(user: Any) -> str | None:
    """Where "/" and the login send a user: the landing page of their first membership that
    has one; a superuser without membership goes to the territories; else ``None``."""
    viewer = Viewer(user)
    for membership in viewer.memberships:
        target = LANDING.get(membership.role)
        url = target(viewer, membership) if target else None
        if url:
            return url
    if user.is_superuser:
        return reverse("territory-list")
    return None


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the main menu, computed only when a template reads it."""
    return {"main_menu": lambda: menu_for(getattr(request, "user", None))}
