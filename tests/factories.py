"""factory_boy factories shared by the test packages."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from associations.models import Association, DistributionSite, Partnership
from kitchens.models import Kitchen
from territories.models import Authority, Membership, Territory
from territories.roles import Role


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Territoire {n}")
    slug = factory.Sequence(lambda n: f"territoire-{n}")
    departement_code = "93"
    region = "Île-de-France"
    is_pilot = True


class AuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Authority

    territory = factory.SubFactory(TerritoryFactory)
    kind = Authority.Kind.CCAS
    name = factory.Sequence(lambda n: f"CCAS {n}")


class KitchenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kitchen

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Cuisine centrale {n}")
    operator_type = Kitchen.OperatorType.PUBLIC_REGIE
    daily_capacity = 8000
    usual_daily_production = 6000
    address = "1 rue de la Cuisine, 93200 Saint-Denis"
    siret = "73282932000074"


class AssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Association

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Association solidaire {n}")
    rna = factory.Sequence(lambda n: f"W93{n:07d}")
    habilitation = Association.Habilitation.REGIONAL
    habilitation_number = "HAB-IDF-2024-001"
    habilitation_expires_on = datetime.date(2030, 12, 31)


class DistributionSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DistributionSite

    association = factory.SubFactory(AssociationFactory)
    territory = factory.SelfAttribute("association.territory")
    name = factory.Sequence(lambda n: f"Local {n}")
    address = "5 place du Marché, 93200 Saint-Denis"
    has_cold_storage = True
    cold_storage_litres = 600
    opening_days = ["mon", "wed", "fri"]


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        skip_postgeneration_save = True

    territory = factory.SubFactory(TerritoryFactory)
    kitchen = factory.SubFactory(KitchenFactory, territory=factory.SelfAttribute("..territory"))
    association = factory.SubFactory(AssociationFactory, territory=factory.SelfAttribute("..territory"))
    mode = Partnership.Mode.SURPLUS
    starts_on = datetime.date(2024, 1, 1)
    ends_on = None
    planned_meals_per_week = 500
    status = Partnership.Status.ACTIVE
    price_per_meal = factory.LazyAttribute(
        lambda o: Decimal("2.40") if o.mode == Partnership.Mode.DEDICATED else None
    )

    @factory.post_generation
    def signed(self, create, extracted, **kwargs):
        """An active partnership has its convention drawn up and signed by every party, unless
        ``signed=False`` is passed."""
        if not create or extracted is False or self.status == Partnership.Status.DRAFT:
            return
        from associations.conventions.services import convention_draw_up_and_sign

        starts_on = self.starts_on
        if isinstance(starts_on, str):
            starts_on = datetime.date.fromisoformat(starts_on)
        convention_draw_up_and_sign(self, on=min(starts_on, datetime.date.today()))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("passerelle-test")


def member(role: str, territory: Territory | None = None, **actor) -> object:
    """A user holding one membership; the actor (kitchen, association, authority) is made if needed."""
    user = UserFactory()
    if role == Role.KITCHEN_MANAGER and "kitchen" not in actor:
        actor["kitchen"] = KitchenFactory(territory=territory)
    if role in (Role.VOLUNTEER, Role.ASSOCIATION_COORDINATOR) and "association" not in actor:
        actor["association"] = AssociationFactory(territory=territory)
    if role == Role.AUTHORITY_COORDINATOR and "authority" not in actor:
        actor["authority"] = AuthorityFactory(territory=territory)
    funded = actor.pop("funded", [])
    membership = Membership(user=user, role=role, territory=territory, **actor)
    membership.full_clean()
    membership.save()
    membership.funded_territories.set(funded)
    return user


def flow(
    partnership,
    *,
    kitchen_user,
    volunteer,
    site,
    meals=120,
    on=None,
    lot_number=None,
    distribute=True,
    discard_reason="Barquettes abîmées",
):
    """A batch picked up and distributed through the services, as the users would do it
    (``distribute=False``: picked up only, the distribution is None)."""
    import datetime as dt
    from decimal import Decimal

    from meals import services

    on = on or dt.date.today() - dt.timedelta(days=1)
    batch = services.batch_create(
        partnership=partnership,
        by=kitchen_user,
        kind="surplus",
        production_date=on,
        meals_count=meals,
        liaison="cold",
        lot_number=lot_number or f"LOT-{partnership.pk}-{on:%Y%m%d}",
        use_by_date=on + dt.timedelta(days=3),
        dispatch_temperature_c=Decimal("2.5"),
        components=["main", "side"],
        allergens=["milk"],
    )
    pickup = services.pickup_confirm(
        batch=batch,
        by=volunteer,
        meals_received=meals,
        temperature_c=Decimal("3.0"),
        transport_mode="association_vehicle",
        refrigerated_vehicle=True,
        distance_km=Decimal("4.2"),
        duration_minutes=25,
    )
    if not distribute:
        return batch, pickup, None
    distribution = services.distribution_record(
        pickup=pickup,
        by=volunteer,
        site=site,
        distributed_on=on + dt.timedelta(days=1),
        meals_distributed=meals - 5,
        beneficiaries=meals - 10,
        meals_discarded=5,
        discard_reason=discard_reason,
        temperature_c=Decimal("2.0"),
    )
    return batch, pickup, distribution


# --- Costing --------------------------------------------------------------------------------

MARCH_2025 = datetime.date(2025, 3, 1)


class KitchenCostInputFactory(factory.django.DjangoModelFactory):
    """A kitchen's complete inputs for a month (the worked example of docs/methodology.md)."""

    class Meta:
        model = "costing.KitchenCostInput"

    kitchen = factory.SubFactory(KitchenFactory)
    territory = factory.SelfAttribute("kitchen.territory")
    month = MARCH_2025
    food_cost_per_meal = Decimal("1.80")
    packaging_per_meal = Decimal("0.20")
    energy_per_meal = Decimal("0.10")
    extra_labour_hours = Decimal("100")
    labour_hourly_cost = Decimal("30.00")
    surplus_handling_hours = Decimal("20")
    other_direct_costs = Decimal("500.00")


class TransportRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "costing.TransportRate"

    territory = factory.SubFactory(TerritoryFactory)
    month = MARCH_2025
    transport_mode = "association_vehicle"
    cost_per_km = Decimal("0.60")
    driver_hourly_cost = Decimal("24.00")


class AssociationCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "costing.AssociationCost"

    association = factory.SubFactory(AssociationFactory)
    territory = factory.SelfAttribute("association.territory")
    month = MARCH_2025
    paid_staff_hours = Decimal("160")
    paid_staff_hourly_cost = Decimal("25.00")
    volunteer_hours = Decimal("380")
    premises_cost = Decimal("600.00")
    equipment_cost = Decimal("3600.00")
    equipment_amortisation_months = 36
    other_costs = Decimal("200.00")


class CoordinationCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "costing.CoordinationCost"

    authority = factory.SubFactory(AuthorityFactory)
    territory = factory.SelfAttribute("authority.territory")
    month = MARCH_2025
    staff_hours = Decimal("40")
    staff_hourly_cost = Decimal("35.00")
    other_costs = Decimal("250.00")


class FundingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "costing.Funding"

    territory = factory.SubFactory(TerritoryFactory)
    funder = "drihl"
    amount = Decimal("50000.00")
    period_start = datetime.date(2025, 1, 1)
    period_end = datetime.date(2025, 12, 31)


class ReferenceValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "costing.ReferenceValue"

    code = "food_parcel_cost_per_meal"
    value = Decimal("4.25")
    source = "Étude de référence sur l'aide alimentaire"
    source_date = datetime.date(2024, 6, 1)
    valid_from = factory.Sequence(lambda n: datetime.date(2024, 1, 1) + datetime.timedelta(days=n))


class DailyRollupFactory(factory.django.DjangoModelFactory):
    """A roll-up row written directly, to hand-compute the cost method on known sums."""

    class Meta:
        model = "costing.DailyRollup"

    partnership = factory.SubFactory(PartnershipFactory)
    territory = factory.SelfAttribute("partnership.territory")
    kitchen = factory.SelfAttribute("partnership.kitchen")
    association = factory.SelfAttribute("partnership.association")
    day = datetime.date(2025, 3, 10)


# --- Reports (evaluation) -------------------------------------------------------------------

# The smallest frozen figures a done report can hold: one table, for the exports.
REPORT_FIGURES = {
    "schema": 1,
    "built_on": "2025-02-03",
    "tables": {
        "activity": {
            "name": "activity",
            "title": "Activité par mois",
            "columns": [
                {"key": "month", "label": "Mois", "kind": "month", "unit": ""},
                {"key": "meals_distributed", "label": "Repas distribués", "kind": "int", "unit": ""},
            ],
            "rows": [{"month": "2025-01-01", "meals_distributed": 10}],
            "note": "",
        }
    },
}


def report_figures() -> dict:
    import copy

    return copy.deepcopy(REPORT_FIGURES)


class ReportFactory(factory.django.DjangoModelFactory):
    """A done report with its PDF and frozen figures, written directly (no build)."""

    class Meta:
        model = "evaluation.Report"

    kind = "drihl"
    territory = factory.SubFactory(TerritoryFactory)
    period_start = datetime.date(2025, 1, 1)
    period_end = datetime.date(2025, 1, 31)
    requested_by = factory.SubFactory(UserFactory)
    status = "done"
    progress = 100
    figures = factory.LazyFunction(report_figures)
    pdf = factory.django.FileField(filename="rapport.pdf", data=b"%PDF-1.4\n%%EOF\n")


# --- Evaluation: journal and surveys --------------------------------------------------------


class JournalEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evaluation.JournalEntry"

    territory = factory.SubFactory(TerritoryFactory)
    author = factory.SubFactory(UserFactory)
    observed_on = datetime.date(2025, 3, 12)
    category = "logistics"
    nature = "obstacle"
    title = factory.Sequence(lambda n: f"Observation {n}")
    text = "Le véhicule réfrigéré de l'association était en panne : collecte reportée."


class SurveyFactory(factory.django.DjangoModelFactory):
    """A beneficiary survey; add its questions with SurveyQuestionFactory."""

    class Meta:
        model = "evaluation.Survey"

    territory = factory.SubFactory(TerritoryFactory)
    kind = "beneficiary"
    title = factory.Sequence(lambda n: f"Questionnaire de satisfaction {n}")
    public_token = factory.Sequence(lambda n: f"jeton-{n:037d}")
    created_by = factory.SubFactory(UserFactory)


class SurveyQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evaluation.SurveyQuestion"

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n + 1)
    code = "satisfaction"
    text = "Êtes-vous satisfait des repas ?"
    kind = "scale"
    choices: list = []


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "evaluation.SurveyResponse"

    survey = factory.SubFactory(SurveyFactory)
    territory = factory.SelfAttribute("survey.territory")
    channel = "paper"
    answered_on = datetime.date(2025, 3, 14)
    answers = factory.LazyFunction(dict)
