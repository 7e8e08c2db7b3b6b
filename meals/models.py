"""The daily flow of meals: a Batch is produced, picked up once, then distributed.

Every transition goes through ``meals.services``; the models hold data and the
food-safety bounds, not the rules of who may do what when.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.leases import LeasedWork
from territories.models import TerritoryOwned
from territories.roles import Role

if TYPE_CHECKING:
    from territories.models import Membership

# Cold chain (arrêté du 21 décembre 2009, annexe I): chilled meals at +3 °C or below, hot
# meals at 63 °C or above; a chilled meal reheated reaches 63 °C within an hour.
COLD_MAX_C = Decimal("3")
HOT_MIN_C = Decimal("63")
REHEAT_MAX_MINUTES = 60


class Liaison(models.TextChoices):
    COLD = "cold", _("Liaison froide")
    HOT = "hot", _("Liaison chaude")


def temperature_ok(liaison: str, temperature_c: Decimal) -> bool:
    if liaison == Liaison.COLD:
        return temperature_c <= COLD_MAX_C
    return temperature_c >= HOT_MIN_C


class Component(models.TextChoices):
    STARTER = "starter", _("Entrée")
    MAIN = "main", _("Plat")
    SIDE = "side", _("Accompagnement")
    DAIRY = "dairy", _("Produit laitier")
    DESSERT = "dessert", _("Dessert")
    BREAD = "bread", _("Pain")


class Allergen(models.TextChoices):
    """The 14 allergens of EU regulation 1169/2011, annex II."""

    GLUTEN = "gluten", _("Céréales contenant du gluten")
    CRUSTACEANS = "crustaceans", _("Crustacés")
    EGGS = "eggs", _("Œufs")
    FISH = "fish", _("Poissons")
    PEANUTS = "peanuts", _("Arachides")
    SOYBEANS = "soybeans", _("Soja")
    MILK = "milk", _("Lait")
    NUTS = "nuts", _("Fruits à coque")
    CELERY = "celery", _("Céleri")
    MUSTARD = "mustard", _("Moutarde")
    SESAME = "sesame", _("Graines de sésame")
    SULPHITES = "sulphites", _("Anhydride sulfureux et sulfites")
    LUPIN = "lupin", _("Lupin")
    MOLLUSCS = "molluscs", _("Mollusques")


class PortionType(models.TextChoices):
    CHILD = "child", _("Enfant")
    ADULT = "adult", _("Adulte")


class ShortfallReason(models.TextChoices):
    """Why a pickup received fewer meals than the batch holds."""

    DAMAGED_PACKAGING = "damaged_packaging", _("Emballage endommagé")
    TEMPERATURE = "temperature", _("Température")
    COUNTING_ERROR = "counting_error", _("Erreur de comptage")
    REFUSED = "refused", _("Refusé par l'association")
    OTHER = "other", _("Autre")


class Batch(TerritoryOwned):
    """Meals produced by a kitchen for one partnership, on one day and service."""

    funder_visible = False

    class Kind(models.TextChoices):
        DEDICATED = "dedicated", _("Repas dédiés")
        SURPLUS = "surplus", _("Excédents")

    class Service(models.TextChoices):
        LUNCH = "lunch", _("Déjeuner")
        DINNER = "dinner", _("Dîner")

    class Status(models.TextChoices):
        READY = "ready", _("Prêt à collecter")
        PICKED_UP = "picked_up", _("Collecté")
        DISTRIBUTED = "distributed", _("Distribué")
        CANCELLED = "cancelled", _("Annulé")
        DISCARDED = "discarded", _("Écarté")

    partnership = models.ForeignKey(
        "associations.Partnership",
        on_delete=models.PROTECT,
        related_name="batches",
        verbose_name=_("partenariat"),
    )
    # Denormalised from the partnership so scoping and roll-ups need no join.
    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.PROTECT, related_name="batches", verbose_name=_("cuisine")
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="batches",
        verbose_name=_("association"),
    )
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    production_date = models.DateField(_("date de production"))
    service = models.CharField(_("service"), max_length=10, choices=Service.choices, default=Service.LUNCH)
    meals_count = models.PositiveIntegerField(_("nombre de repas"))
    components = models.JSONField(_("composantes"), default=list, blank=True)
    liaison = models.CharField(_("liaison"), max_length=10, choices=Liaison.choices)
    lot_number = models.CharField(_("numéro de lot"), max_length=50)
    use_by_date = models.DateField(_("date limite de consommation"))
    dispatch_temperature_c = models.DecimalField(
        _("température au départ (°C)"), max_digits=4, decimal_places=1
    )
    allergens = models.JSONField(_("allergènes"), default=list, blank=True)
    # An empty allergen list means "not declared" unless this box is ticked (INCO regulation
    # 1169/2011, art. 9 and annex II: the 14 allergens are declared, their absence as well).
    no_regulated_allergens = models.BooleanField(_("aucun des 14 allergènes réglementaires"), default=False)
    dishes = models.TextField(_("plats (menu du lot)"), blank=True)
    portion_type = models.CharField(
        _("type de portion"), max_length=10, choices=PortionType.choices, blank=True
    )
    portion_grams = models.PositiveIntegerField(_("poids d'une portion (g)"), null=True, blank=True)
    reheating_instructions = models.TextField(_("consignes de remise en température"), blank=True)
    recalled_at = models.DateTimeField(_("rappelé le"), null=True, blank=True)
    recall_reason = models.TextField(_("motif du rappel"), blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("rappelé par"),
    )
    # Meals of the lot not yet eaten nor set aside when it was recalled: lost with the recall.
    meals_recalled = models.PositiveIntegerField(_("repas retirés par le rappel"), default=0)
    unusual_confirmed = models.BooleanField(
        _("nombre inhabituel confirmé"),
        default=False,
        help_text=_(
            "Plus de trois fois le volume quotidien habituel du partenariat, confirmé par la cuisine."
        ),
    )
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices, default=Status.READY)
    discard_reason = models.TextField(_("motif de l'écart ou de l'annulation"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("déclaré par")
    )
    created_at = models.DateTimeField(_("déclaré le"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lot de repas")
        verbose_name_plural = _("lots de repas")
        ordering = ["-production_date", "-id"]
        indexes = [
            models.Index(fields=["territory", "production_date"]),
            models.Index(fields=["association", "status"]),
            models.Index(fields=["kitchen", "production_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(use_by_date__gte=models.F("production_date")),
                name="batch_use_by_after_production",
            ),
            models.CheckConstraint(condition=Q(meals_count__gt=0), name="batch_has_meals"),
            # A lot number identifies one production of one kitchen (traceability, regulation
            # (EC) 178/2002 art. 18); a cancelled declaration frees its number.
            models.UniqueConstraint(
                fields=["kitchen", "lot_number"],
                condition=~Q(status="cancelled"),
                name="batch_lot_unique_per_kitchen",
            ),
        ]

    def __str__(self) -> str:
        return ngettext(
            "%(lot)s — %(meals)s repas (%(day)s)", "%(lot)s — %(meals)s repas (%(day)s)", self.meals_count
        ) % {
            "lot": self.lot_number,
            "meals": self.meals_count,
            "day": date_format(self.production_date, "SHORT_DATE_FORMAT"),
        }

    @property
    def allergens_declared(self) -> bool:
        return bool(self.allergens) or self.no_regulated_allergens

    @property
    def allergen_labels(self) -> list[str]:
        labels = dict(Allergen.choices)
        return [str(labels.get(code, code)) for code in self.allergens]

    @property
    def recalled(self) -> bool:
        return self.recalled_at is not None

    @property
    def past_use_by(self) -> bool:
        """Its use-by date has passed: the meals may be eaten until the end of that day, so
        the use-by day itself is not past, the day after is."""
        return self.use_by_date < timezone.localdate()

    @property
    def expired(self) -> bool:
        """Still waiting for its pickup past its use-by date: shown « Périmé », not « Prêt à
        collecter » (it can no longer be collected)."""
        return self.status == self.Status.READY and self.past_use_by

    @property
    def dispatch_temperature_ok(self) -> bool:
        return temperature_ok(self.liaison, self.dispatch_temperature_c)

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        if membership.role == Role.KITCHEN_MANAGER and membership.kitchen_id:
            return Q(kitchen_id=membership.kitchen_id)
        return None

    @classmethod
    def recall_rule(cls, membership: Membership) -> Q | None:
        """A lot is recalled by a manager of its kitchen or a coordinator of its territory."""
        return cls.change_rule(membership) or cls.territory_coordinator_rule(membership)

    @classmethod
    def pickup_rule(cls, membership: Membership) -> Q | None:
        """Volunteers and coordinators pick up and distribute their association's batches."""
        if membership.role in (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR) and membership.association_id:
            return Q(association_id=membership.association_id)
        return None


class TransportMode(models.TextChoices):
    ASSOCIATION_VEHICLE = "association_vehicle", _("Véhicule de l'association")
    KITCHEN_DELIVERY = "kitchen_delivery", _("Livraison par la cuisine")
    THIRD_PARTY = "third_party", _("Transporteur tiers")
    SOFT = "soft", _("À pied ou vélo cargo")


class Pickup(TerritoryOwned):
    """The one collection of a batch by its association, with its transport and temperature on receipt."""

    funder_visible = False

    batch = models.OneToOneField(
        Batch, on_delete=models.PROTECT, related_name="pickup", verbose_name=_("lot")
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="pickups",
        verbose_name=_("association"),
    )
    picked_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("collecté par")
    )
    picked_up_at = models.DateTimeField(_("collecté le"))
    # The local (Europe/Paris) day of the pickup, kept so roll-ups group by day without time zone maths.
    picked_up_on = models.DateField(_("jour de la collecte"), editable=False)
    meals_received = models.PositiveIntegerField(_("repas reçus"))
    shortfall_reason = models.CharField(
        _("motif de l'écart de quantité"), max_length=20, choices=ShortfallReason.choices, blank=True
    )
    shortfall_note = models.TextField(_("précision sur l'écart de quantité"), blank=True)
    temperature_c = models.DecimalField(_("température à réception (°C)"), max_digits=4, decimal_places=1)
    transport_mode = models.CharField(_("mode de transport"), max_length=30, choices=TransportMode.choices)
    refrigerated_vehicle = models.BooleanField(_("véhicule réfrigéré"), default=False)
    distance_km = models.DecimalField(
        _("distance (km)"), max_digits=6, decimal_places=1, default=Decimal("0")
    )
    duration_minutes = models.PositiveIntegerField(_("durée (minutes)"), default=0)
    transport_cost = models.DecimalField(
        _("coût réel du transport (€)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Si vide, le coût est estimé à partir des barèmes de transport du territoire."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collecte")
        verbose_name_plural = _("collectes")
        ordering = ["-picked_up_at"]
        indexes = [models.Index(fields=["territory", "picked_up_on"])]

    def __str__(self) -> str:
        return gettext("Collecte du lot %(lot)s") % {"lot": self.batch.lot_number}

    @property
    def temperature_ok(self) -> bool:
        return temperature_ok(self.batch.liaison, self.temperature_c)

    @property
    def meals_short(self) -> int:
        """Meals of the batch the association did not receive (a loss, with its reason)."""
        return max(self.batch.meals_count - self.meals_received, 0)

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return Batch.pickup_rule(membership)


# Who is reached: optional counts of a distribution's people served, one definition read by the
# form, the API, the service's rule (each group sums to at most the people served) and the
# indicators (``evaluation.reach``).
REACH_PROFILES = (
    "profile_families", "profile_alone", "profile_students", "profile_elderly", "profile_sheltered",
)  # fmt: skip
REACH_REFERRALS = ("referred_ccas", "referred_siao", "referred_social_worker")
REACH_FIELDS = (*REACH_PROFILES, *REACH_REFERRALS, "turned_away")


class Distribution(TerritoryOwned):
    """Meals of a pickup handed out at a site on a day. Counts only: no data on the people helped."""

    funder_visible = False

    pickup = models.ForeignKey(
        Pickup, on_delete=models.PROTECT, related_name="distributions", verbose_name=_("collecte")
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, related_name="distributions", verbose_name=_("lot")
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        related_name="distributions",
        verbose_name=_("association"),
    )
    site = models.ForeignKey(
        "associations.DistributionSite",
        on_delete=models.PROTECT,
        related_name="distributions",
        verbose_name=_("lieu de distribution"),
    )
    distributed_on = models.DateField(_("distribué le"))
    meals_distributed = models.PositiveIntegerField(_("repas distribués"))
    beneficiaries = models.PositiveIntegerField(_("personnes servies"))
    households = models.PositiveIntegerField(_("foyers"), null=True, blank=True)
    children = models.PositiveIntegerField(_("dont enfants"), null=True, blank=True)
    # Who is reached, as optional counts of the people served (no personal data): by profile,
    # by referral, and the people turned away for lack of meals (``REACH_PROFILES``...).
    profile_families = models.PositiveIntegerField(
        _("personnes en famille avec enfants"), null=True, blank=True
    )
    profile_alone = models.PositiveIntegerField(_("personnes seules"), null=True, blank=True)
    profile_students = models.PositiveIntegerField(_("étudiants"), null=True, blank=True)
    profile_elderly = models.PositiveIntegerField(_("personnes âgées"), null=True, blank=True)
    profile_sheltered = models.PositiveIntegerField(
        _("personnes hébergées à l'hôtel ou en hébergement d'urgence"), null=True, blank=True
    )
    referred_ccas = models.PositiveIntegerField(_("orientées par un CCAS"), null=True, blank=True)
    referred_siao = models.PositiveIntegerField(_("orientées par le SIAO"), null=True, blank=True)
    referred_social_worker = models.PositiveIntegerField(
        _("orientées par un travailleur social"), null=True, blank=True
    )
    turned_away = models.PositiveIntegerField(
        _("personnes non servies faute de repas"), null=True, blank=True
    )
    meals_discarded = models.PositiveIntegerField(_("repas écartés"), default=0)
    discard_reason = models.TextField(_("motif de l'écart"), blank=True)
    temperature_c = models.DecimalField(
        _("température à la distribution (°C)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    consumed_on_receipt = models.BooleanField(_("consommés dès réception"), default=False)
    reheat_temperature_c = models.DecimalField(
        _("température après remise en température (°C)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
    )
    reheat_minutes = models.PositiveIntegerField(
        _("durée de la remise en température (minutes)"), null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("saisi par")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("distribution")
        verbose_name_plural = _("distributions")
        ordering = ["-distributed_on", "-id"]
        indexes = [models.Index(fields=["territory", "distributed_on"])]

    def __str__(self) -> str:
        return ngettext(
            "%(meals)s repas le %(day)s (%(site)s)",
            "%(meals)s repas le %(day)s (%(site)s)",
            self.meals_distributed,
        ) % {
            "meals": self.meals_distributed,
            "day": date_format(self.distributed_on, "SHORT_DATE_FORMAT"),
            "site": self.site.name,
        }

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return Batch.pickup_rule(membership)


class RecordImport(TerritoryOwned, LeasedWork):
    """A CSV file of past records uploaded for a territory, loaded by a Celery task.

    Its state is driven by the pending-work sweeper (``config.leases``), as a report's."""

    funder_visible = False

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Importé")
        REFUSED = "refused", _("Refusé")
        FAILED = "failed", _("Échec technique")

    file = models.FileField(_("fichier CSV"), upload_to="imports/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("déposé par")
    )
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PENDING)
    rows = models.PositiveIntegerField(_("lignes"), default=0)
    counts = models.JSONField(_("enregistrements créés"), default=dict, blank=True)
    report = models.TextField(_("rapport"), blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("import de données")
        verbose_name_plural = _("imports de données")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file.name} ({self.get_status_display()})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def created_text(self) -> str:
        """What the import saved, in words ("2 lots, 1 collecte et 0 distribution")."""
        return created_text(self.counts)

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        if membership.role in (Role.AUTHORITY_COORDINATOR, Role.EVALUATOR):
            return super().view_rule(membership)
        return None

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return cls.territory_coordinator_rule(membership)


def created_text(counts: dict[str, int]) -> str:
    """The batches, pickups and distributions an import creates, each count with its plural."""
    batches, pickups, distributions = (counts.get(key, 0) for key in ("batches", "pickups", "distributions"))
    return gettext("%(batches)s, %(pickups)s et %(distributions)s") % {
        "batches": ngettext("%(count)s lot", "%(count)s lots", batches) % {"count": batches},
        "pickups": ngettext("%(count)s collecte", "%(count)s collectes", pickups) % {"count": pickups},
        "distributions": ngettext("%(count)s distribution", "%(count)s distributions", distributions)
        % {"count": distributions},
    }


def reach_label(name: str) -> str:
    """The label of a count of who is reached (``REACH_FIELDS``), as forms and reports print it."""
    from django.utils.text import capfirst

    return capfirst(str(getattr(Distribution._meta.get_field(name), "verbose_name", name)))


# Models of the concerns kept in their own packages, imported here so Django registers them.
from meals.calendars.models import CalendarFeed  # noqa: E402
from meals.offers.models import Offer, OfferRecipient  # noqa: E402

__all__ = [
    "Batch",
    "CalendarFeed",
    "Distribution",
    "Offer",
    "OfferRecipient",
    "Pickup",
    "RecordImport",
]
from meals.rounds.models import RoundSchedule, RoundSlot  # noqa: E402

__all__ += ["RoundSchedule", "RoundSlot"]
