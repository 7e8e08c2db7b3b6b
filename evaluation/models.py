"""The embedded evaluation: observation journal, surveys and the reports built for funders.

Indicators are not stored: they are computed from the roll-ups (``evaluation.indicators``).
A report stores the figures it printed, so the document can be produced again identically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.leases import LeasedWork
from territories.models import Territory, TerritoryOwned
from territories.roles import Role
from territories.scoping import EVERY_ROW, ScopedModel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from territories.models import Membership


def evaluator_or_territory_coordinator(cls: type[TerritoryOwned], membership: Membership) -> Q | None:
    if membership.role == Role.EVALUATOR:
        return EVERY_ROW
    return cls.territory_coordinator_rule(membership)


class JournalEntry(TerritoryOwned):
    """A dated observation of how the partnership works: an obstacle (frein) or a lever (levier).

    The journal holds the authority's working notes. Each entry says whether it is shared with
    funders: funders read only the shared entries of the territories they fund, in the API, on
    the dashboard, in the reports addressed to them and in those reports' exports
    (docs/roles.md). Not shared unless its author says so.
    """

    class Category(models.TextChoices):
        ADMINISTRATIVE = "administrative", _("Administratif")
        TECHNICAL = "technical", _("Technique")
        ECONOMIC = "economic", _("Économique")
        LOGISTICS = "logistics", _("Logistique")
        SOCIAL = "social", _("Social")
        PARTNERSHIP = "partnership", _("Partenariat")

    class Nature(models.TextChoices):
        OBSTACLE = "obstacle", _("Frein")
        LEVER = "lever", _("Levier")
        DECISION = "decision", _("Décision")

    class Theme(models.TextChoices):
        """What the observation is about, for the conditions of replication (``evaluation.replication``)."""

        LOGISTICS = "logistics", _("Logistique")
        FOOD_SAFETY = "food_safety", _("Sécurité sanitaire")
        COSTS = "costs", _("Coûts")
        GOVERNANCE = "governance", _("Gouvernance")
        VOLUNTEERS = "volunteers", _("Bénévoles")
        BENEFICIARIES = "beneficiaries", _("Bénéficiaires")
        KITCHEN_STAFF = "kitchen_staff", _("Personnel de cuisine")

    observed_on = models.DateField(_("date de l'observation"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("auteur")
    )
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices)
    nature = models.CharField(_("nature"), max_length=10, choices=Nature.choices)
    theme = models.CharField(_("thème"), max_length=20, choices=Theme.choices, blank=True)
    title = models.CharField(_("titre"), max_length=200)
    text = models.TextField(_("observation"))
    kitchen = models.ForeignKey(
        "kitchens.Kitchen", on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("cuisine")
    )
    association = models.ForeignKey(
        "associations.Association",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("association"),
    )
    authority = models.ForeignKey(
        "territories.Authority",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("collectivité"),
    )
    shared_with_funders = models.BooleanField(
        _("partagée avec les financeurs"),
        default=False,
        help_text=_("Les financeurs du territoire la liront, ainsi que les rapports qui leur sont destinés."),
    )
    created_at = models.DateTimeField(_("saisi le"), auto_now_add=True)

    class Meta:
        verbose_name = _("entrée du journal d'observation")
        verbose_name_plural = _("journal d'observation")
        ordering = ["-observed_on", "-id"]
        indexes = [models.Index(fields=["territory", "observed_on"])]

    def __str__(self) -> str:
        return f"{date_format(self.observed_on, 'SHORT_DATE_FORMAT')} — {self.title}"

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        # Funders: the shared entries of the territories they fund, nothing else.
        if membership.role == Role.FUNDER:
            return cls.in_territories(membership.funded_territory_ids) & Q(shared_with_funders=True)
        return super().view_rule(membership)

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return evaluator_or_territory_coordinator(cls, membership)

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        for field in ("kitchen", "association", "authority"):
            actor = getattr(self, field) if getattr(self, f"{field}_id") else None
            if actor is not None and self.territory_id and actor.territory_id != self.territory_id:
                errors[field] = _("Cet acteur appartient à un autre territoire.")
        if errors:
            raise ValidationError(errors)


class Survey(TerritoryOwned):
    """A short questionnaire run in a territory, answered on paper (then entered) or online."""

    funder_visible = False

    class Kind(models.TextChoices):
        BENEFICIARY = "beneficiary", _("Satisfaction des bénéficiaires")
        PARTNER = "partner", _("Questionnaire des partenaires")
        KITCHEN_STAFF = "kitchen_staff", _("Personnel des cuisines")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("titre"), max_length=200)
    introduction = models.TextField(_("introduction"), blank=True)
    # The address of the online form; unguessable, so only those given the link can answer.
    public_token = models.CharField(_("jeton du lien public"), max_length=43, unique=True)
    is_open = models.BooleanField(_("ouvert aux réponses"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("créé par")
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return EVERY_ROW if membership.role == Role.EVALUATOR else None


class SurveyQuestion(models.Model):
    """One closed question; there is no free text, so answers cannot carry personal data."""

    class Kind(models.TextChoices):
        SCALE = "scale", _("Échelle de 1 à 5")
        YES_NO = "yes_no", _("Oui / non")
        CHOICE = "choice", _("Choix dans une liste")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(_("ordre"))
    code = models.SlugField(_("code"), max_length=40, help_text=_("Nom court, repris dans les indicateurs."))
    text = models.CharField(_("question"), max_length=300)
    kind = models.CharField(_("type de réponse"), max_length=10, choices=Kind.choices)
    choices = models.JSONField(_("choix"), default=list, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "code"], name="one_question_code_per_survey"),
        ]

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        if self.kind == self.Kind.CHOICE and len(self.choices or []) < 2:
            raise ValidationError({"choices": _("Une question à choix propose au moins deux réponses.")})
        if self.kind != self.Kind.CHOICE and self.choices:
            raise ValidationError({"choices": _("Seules les questions à choix ont une liste de réponses.")})


class SurveyResponse(TerritoryOwned):
    """One anonymous set of answers: no name, no contact, no address, no account of the respondent."""

    funder_visible = False

    class Channel(models.TextChoices):
        PAPER = "paper", _("Papier, saisi ensuite")
        ONLINE = "online", _("En ligne")

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    # The day only: a time of day could tell who answered at a small site.
    answered_on = models.DateField(_("répondu le"))
    answers = models.JSONField(_("réponses"), help_text=_("Code de la question → réponse."))

    class Meta:
        verbose_name = _("réponse à un questionnaire")
        verbose_name_plural = _("réponses aux questionnaires")
        ordering = ["-answered_on", "-id"]

    def __str__(self) -> str:
        return f"{self.survey} — {date_format(self.answered_on, 'SHORT_DATE_FORMAT')}"

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return evaluator_or_territory_coordinator(cls, membership)


class SurveyRefusal(TerritoryOwned):
    """Online answers that a survey's public link refused on one day, over one of its limits
    (evaluation/survey_limits.py). Counted, never stored: the indicators show how many."""

    funder_visible = False

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="refusals")
    day = models.DateField(_("jour"))
    count = models.PositiveIntegerField(_("réponses refusées"), default=0)

    class Meta:
        verbose_name = _("réponses refusées d'un questionnaire")
        verbose_name_plural = _("réponses refusées des questionnaires")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["survey", "day"], name="survey_refusal_once_a_day")]

    def __str__(self) -> str:
        return f"{self.survey} — {self.day:%d/%m/%Y} : {self.count}"


class Report(ScopedModel, LeasedWork):
    """A PDF report for a funder, built by a Celery task; it keeps the figures it printed.

    Its state is driven by the pending-work sweeper (``config.leases``): sent again while
    pending, taken back from a worker whose lease lapsed."""

    class Kind(models.TextChoices):
        DRIHL = "drihl", _("Rapport d'activité DRIHL (France Relance)")
        CARASSO = "carasso", _("Rapport Fondation Carasso")
        SYNTHESIS = "synthesis", _("Synthèse de l'évaluation")

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        DONE = "done", _("Prêt")
        FAILED = "failed", _("Échec")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("territoire"),
        help_text=_("Vide pour une synthèse de tous les territoires."),
    )
    period_start = models.DateField(_("début de la période"))
    period_end = models.DateField(_("fin de la période"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("demandé par")
    )
    requested_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    message = models.TextField(_("message"), blank=True)
    figures = models.JSONField(_("chiffres imprimés"), default=dict, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/", blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    # The language the report was asked in: its document, tables, charts and messages are
    # written in it (French unless asked from an English page or API call).
    language = models.CharField(_("langue"), max_length=8, choices=settings.LANGUAGES, default="fr")

    class Meta:
        verbose_name = _("rapport")
        verbose_name_plural = _("rapports")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="report_period_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        where = self.territory or _("tous les territoires")
        period = gettext("du %(start)s au %(end)s") % {
            "start": date_format(self.period_start, "SHORT_DATE_FORMAT"),
            "end": date_format(self.period_end, "SHORT_DATE_FORMAT"),
        }
        return f"{self.get_kind_display()} — {where} ({period})"

    @classmethod
    def view_rule(cls, membership: Membership) -> Q | None:
        # Funders see the reports of the territories they fund; a synthesis of all is for evaluators.
        if membership.role == Role.FUNDER:
            return Q(territory_id__in=membership.funded_territory_ids)
        return super().view_rule(membership)

    @classmethod
    def change_rule(cls, membership: Membership) -> Q | None:
        return EVERY_ROW if membership.role == Role.EVALUATOR else None

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if self.period_start and self.period_end and self.period_end < self.period_start:
            errors["period_end"] = _("La fin de la période précède son début.")
        if self.kind == self.Kind.SYNTHESIS and self.territory_id:
            errors["territory"] = _(
                "Une synthèse porte sur tous les territoires : laissez le territoire vide."
            )
        if self.kind != self.Kind.SYNTHESIS and not self.territory_id:
            errors["territory"] = _("Indiquez le territoire du rapport.")
        if errors:
            raise ValidationError(errors)
