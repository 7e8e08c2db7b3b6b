"""A ready-made partnership with its users, for tests of the meal flow and what derives from it."""

import datetime
from decimal import Decimal

from costing import rollups
from meals import services
from meals.models import Batch
from territories.roles import Role
from tests.factories import DistributionSiteFactory, PartnershipFactory, member


class Scene:
    """One partnership with its kitchen manager, a volunteer of its association and a site."""

    def __init__(self, **partnership):
        self.partnership = PartnershipFactory(**partnership)
        self.territory = self.partnership.territory
        self.kitchen_user = member(Role.KITCHEN_MANAGER, self.territory, kitchen=self.partnership.kitchen)
        self.volunteer = member(Role.VOLUNTEER, self.territory, association=self.partnership.association)
        self.site = DistributionSiteFactory(association=self.partnership.association)
        self.today = datetime.date.today()
        self.lots = 0

    @property
    def supply(self):
        """The pair's supply agreement (dedicated meals), linked to the donation convention."""
        if getattr(self, "_supply", None) is None:
            from associations.models import Partnership

            main = self.partnership
            self._supply = PartnershipFactory(
                territory=self.territory,
                kitchen=main.kitchen,
                association=main.association,
                mode=Partnership.Mode.DEDICATED,
                starts_on=main.starts_on,
                ends_on=main.ends_on,
                paired_with=main,
            )
            Partnership.objects.filter(pk=main.pk).update(paired_with=self._supply)
        return self._supply

    def batch_payload(self, **change):
        return {
            "partnership": self.partnership.pk,
            "kind": "surplus",
            "production_date": str(self.today),
            "service": "lunch",
            "meals_count": 150,
            "components": ["starter", "main", "dessert"],
            "liaison": "cold",
            "lot_number": "L-2411-01",
            "use_by_date": str(self.today + datetime.timedelta(days=3)),
            "dispatch_temperature_c": "2.0",
            "allergens": ["gluten", "milk"],
            **change,
        }

    def batch(self, **change):
        """A batch through the service; each one has its own lot number (L-1, L-2...)."""
        self.lots += 1
        produced = change.get("production_date", self.today)
        fields = {
            "kind": "surplus",
            "production_date": produced,
            "meals_count": 150,
            "liaison": "cold",
            "lot_number": f"L-{self.lots}",
            "use_by_date": produced + datetime.timedelta(days=3),
            "dispatch_temperature_c": Decimal("2.0"),
            "allergens": ["milk"],
            **change,
        }
        partnership = fields.pop("partnership", None) or (
            self.supply if fields["kind"] == "dedicated" else self.partnership
        )
        return services.batch_create(partnership=partnership, by=self.kitchen_user, **fields)

    def past_batch(self, **change):
        """A batch declared on its production day, in the past: declared as today's (the rules
        of a declaration hold at that moment), then its dates moved back to the given ones."""
        production = change.pop("production_date")
        shift = self.today - production
        use_by = change.pop("use_by_date", production + datetime.timedelta(days=3))
        batch = self.batch(production_date=self.today, use_by_date=use_by + shift, **change)
        Batch.objects.filter(pk=batch.pk).update(production_date=production, use_by_date=use_by)
        # The move bypasses the services: the two days' roll-ups are brought in line here.
        for day in {self.today, production}:
            rollups.rollup_territory_day(territory_id=batch.territory_id, day=day)
        batch.refresh_from_db()
        return batch

    def pickup(self, batch, **change):
        fields = {
            "meals_received": batch.meals_count,
            "temperature_c": Decimal("3.0"),
            "transport_mode": "association_vehicle",
            **change,
        }
        return services.pickup_confirm(batch=batch, by=self.volunteer, **fields)


def scene_with_coordinators() -> Scene:
    """A scene with the two roles that write a partnership's round schedule: the association's
    coordinator (``scene.coordinator``) and the territory's authority (``scene.authority``)."""
    scene = Scene()
    scene.coordinator = member(
        Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association
    )
    scene.authority = member(Role.AUTHORITY_COORDINATOR, scene.territory)
    return scene
