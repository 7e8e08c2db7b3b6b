"""A kitchen with several associations around it, for the tests of surplus offers."""

from __future__ import annotations

import datetime
from decimal import Decimal

from associations.models import Partnership
from territories.roles import Role
from tests.factories import AssociationFactory, DistributionSiteFactory, PartnershipFactory, member

# Saint-Denis, the kitchen's place.
KITCHEN_AT = (Decimal("48.93600"), Decimal("2.35740"))


class OfferWorld:
    """A kitchen and its manager; ``donor_to(name)`` adds an association holding an active,
    signed donation convention with it, with a volunteer whose e-mail is ``<name>@exemple.fr``."""

    def __init__(self, **kitchen):
        self.convention = PartnershipFactory(association__name="Association Alpha", **kitchen)
        self.territory = self.convention.territory
        self.kitchen = self.convention.kitchen
        self.kitchen_user = member(Role.KITCHEN_MANAGER, self.territory, kitchen=self.kitchen)
        self.kitchen_user.email = "cuisine@exemple.fr"
        self.kitchen_user.save()
        self.volunteers = {"alpha": self.volunteer(self.convention.association, "alpha")}
        self.site(self.convention.association, KITCHEN_AT)

    def volunteer(self, association, name: str):
        user = member(Role.VOLUNTEER, self.territory, association=association)
        user.email = f"{name}@exemple.fr"
        user.save()
        return user

    def site(self, association, at: tuple[Decimal, Decimal] | None):
        latitude, longitude = at if at else (None, None)
        return DistributionSiteFactory(association=association, latitude=latitude, longitude=longitude)

    def donor_to(
        self, name: str, at: tuple[Decimal, Decimal] | None = KITCHEN_AT, **partnership
    ) -> Partnership:
        association = AssociationFactory(territory=self.territory, name=f"Association {name.capitalize()}")
        convention = PartnershipFactory(
            territory=self.territory, kitchen=self.kitchen, association=association, **partnership
        )
        self.volunteers[name] = self.volunteer(association, name)
        self.site(association, at)
        return convention

    def payload(self, **change) -> dict:
        today = datetime.date.today()
        return {
            "kitchen": self.kitchen.pk,
            "production_date": str(today),
            "meals_count": 80,
            "liaison": "cold",
            "lot_number": "OFFRE-1",
            "use_by_date": str(today + datetime.timedelta(days=3)),
            "dispatch_temperature_c": "2.0",
            "allergens": ["milk"],
            "dishes": "Hachis parmentier, salade",
            **change,
        }
