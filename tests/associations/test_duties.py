"""Duties watched for the authority: the donation duty above 3,000 meals a day (ordonnance
2019-1069), habilitations ending within 60 days (e-mail once per threshold), conventions awaiting
signature and ending soon."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse

from associations.conventions.services import convention_version_issue
from associations.duties import habilitation_alerts_send
from associations.models import Association, Partnership
from associations.tasks import send_habilitation_alerts
from territories.roles import Role
from tests.factories import AssociationFactory, KitchenFactory, PartnershipFactory, TerritoryFactory, member

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()
DAY = datetime.timedelta(days=1)


def page(client, territory):
    response = client.get(reverse("territory-detail", kwargs={"pk": territory.pk}))
    assert response.status_code == 200
    return response.context["duties"], response.content.decode()


def test_donation_duty_above_three_thousand_meals_a_day(client):
    territory = TerritoryFactory()
    at_limit = KitchenFactory(territory=territory, name="Cuisine 3000", usual_daily_production=3000)
    over = KitchenFactory(territory=territory, name="Cuisine 3001", usual_daily_production=3001)
    covered = KitchenFactory(territory=territory, name="Cuisine couverte", usual_daily_production=6000)
    PartnershipFactory(territory=territory, kitchen=covered)  # an active, signed donation convention
    supplied = KitchenFactory(territory=territory, name="Cuisine fournisseur", usual_daily_production=5000)
    PartnershipFactory(territory=territory, kitchen=supplied, mode=Partnership.Mode.DEDICATED)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, territory))
    duties, body = page(client, territory)
    assert [kitchen.name for kitchen in duties["owing_donation"]] == ["Cuisine 3001", "Cuisine fournisseur"]
    assert at_limit not in duties["owing_donation"]
    assert "Cuisine 3001" in body and "ordonnance" in body.lower()
    assert over in duties["owing_donation"]


def test_conventions_awaiting_signature_and_ending_soon(client):
    territory = TerritoryFactory()
    waiting = PartnershipFactory(territory=territory)
    convention_version_issue(partnership=waiting, by=None)  # an avenant not yet signed
    soon = PartnershipFactory(territory=territory, ends_on=TODAY + 60 * DAY)
    later = PartnershipFactory(territory=territory, ends_on=TODAY + 61 * DAY)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, territory))
    duties, body = page(client, territory)
    assert [partnership for partnership, _, _ in duties["awaiting_signature"]] == [waiting]
    assert duties["ending_soon"] == [soon]
    assert later not in duties["ending_soon"]
    assert "Avenant n° 1" in body


def test_habilitation_alerts_once_per_threshold(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    territory = TerritoryFactory()
    in_60 = AssociationFactory(
        territory=territory, name="Fin dans 60 jours", habilitation_expires_on=TODAY + 60 * DAY
    )
    AssociationFactory(
        territory=territory, name="Fin dans 61 jours", habilitation_expires_on=TODAY + 61 * DAY
    )
    ended = AssociationFactory(territory=territory, name="Terminée", habilitation_expires_on=TODAY - DAY)
    coordinator = member(Role.ASSOCIATION_COORDINATOR, territory, association=in_60)
    coordinator.email = "coordination@asso.example"
    coordinator.save()
    authority = member(Role.AUTHORITY_COORDINATOR, territory)
    authority.email = "ccas@ville.example"
    authority.save()

    assert send_habilitation_alerts() == 2
    assert send_habilitation_alerts() == 0  # run twice: sent once
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == [
        "Habilitation bientôt terminée : Fin dans 60 jours",
        "Habilitation terminée : Terminée",
    ]
    soon = next(m for m in mail.outbox if "Fin dans 60 jours" in m.subject)
    assert sorted(soon.to) == ["ccas@ville.example", "coordination@asso.example"]
    assert (TODAY + 60 * DAY).strftime("%d/%m/%Y") in soon.body

    # 61 days on: the first has ended (its second threshold), the second now ends within 60 days.
    assert habilitation_alerts_send(today=TODAY + 61 * DAY) == 2
    assert habilitation_alerts_send(today=TODAY + 61 * DAY) == 0
    Association.objects.filter(pk=ended.pk).update(habilitation_expires_on=TODAY + 30 * DAY)
    assert habilitation_alerts_send(today=TODAY) == 1
    assert len(mail.outbox) == 5


APPROVED = {"sanitary_approval_number": "FR 93.066.001 CE"}


def test_the_dashboard_lists_the_duties_read_live_not_with_the_kept_figures(client):
    """The dashboard's "Obligations à suivre": a kitchen over 3,000 meals a day without a donation
    convention shows there (3,000 does not), and a duty arising after the figures were kept shows
    on the next request, without the figures' cache being touched."""
    territory = TerritoryFactory()
    KitchenFactory(territory=territory, name="Cuisine 3000", usual_daily_production=3000, **APPROVED)
    KitchenFactory(territory=territory, name="Cuisine 3001", usual_daily_production=3001, **APPROVED)
    client.force_login(member(Role.AUTHORITY_COORDINATOR, territory))
    url = reverse("territory-dashboard", kwargs={"pk": territory.pk})
    period = {"start": str(TODAY - 30 * DAY), "end": str(TODAY - DAY)}

    def block() -> str:
        response = client.get(url, period)
        assert response.status_code == 200
        html = response.content.decode()
        start = html.index('<section aria-labelledby="titre-obligations-suivre"')
        return html[start : html.index("</section>", start)]

    first = block()
    assert "Obligations à suivre" in first
    assert "Plus de 3000 repas par jour sans convention de don active" in first
    assert "Cuisine 3001" in first and "3001 repas par jour" in first
    assert "Cuisine 3000" not in first
    # A new kitchen over the threshold: the figures are kept, the duties are read again.
    KitchenFactory(territory=territory, name="Cuisine 4200", usual_daily_production=4200, **APPROVED)
    assert "Cuisine 4200" in block()


def test_conventions_watched_at_their_bounds_and_in_one_query_when_nothing_is_due(
    client, django_assert_num_queries
):
    """Awaiting signature: the current version only, with the parties still to sign, never of an
    ended partnership. Ending soon: active partnerships ending from today to today + 60 days,
    both included, by end date. With every convention signed and none ending soon, the duties
    of the page are read in three queries (kitchens, partnerships, associations)."""
    from associations.conventions.models import Party
    from associations.conventions.services import convention_sign
    from associations.duties import territory_duties

    territory = TerritoryFactory()
    KitchenFactory(territory=territory, usual_daily_production=1000, **APPROVED)
    authority = member(Role.AUTHORITY_COORDINATOR, territory)
    quiet = PartnershipFactory(territory=territory, ends_on=TODAY + 61 * DAY)
    territory_duties(user=authority, territory=territory, today=TODAY)  # reads the memberships once
    with django_assert_num_queries(3):
        duties = territory_duties(user=authority, territory=territory, today=TODAY)
    assert (duties["awaiting_signature"], duties["ending_soon"]) == ([], [])

    half_signed = convention_version_issue(partnership=quiet, by=None)
    convention_sign(version=half_signed, party=half_signed.parties[0], by=None, signer_name="A. Martin")
    ended = PartnershipFactory(territory=territory, status=Partnership.Status.ENDED, ends_on=TODAY - DAY)
    convention_version_issue(partnership=ended, by=None)
    today = PartnershipFactory(territory=territory, ends_on=TODAY)
    in_60 = PartnershipFactory(territory=territory, ends_on=TODAY + 60 * DAY)
    PartnershipFactory(territory=territory, ends_on=TODAY - DAY)  # ended yesterday
    PartnershipFactory(territory=territory, status=Partnership.Status.SUSPENDED, ends_on=TODAY + DAY)
    other = PartnershipFactory(ends_on=TODAY + DAY)  # another territory

    duties = territory_duties(user=authority, territory=territory, today=TODAY)
    assert [(p, v, missing) for p, v, missing in duties["awaiting_signature"]] == [
        (quiet, half_signed, [Party(party) for party in half_signed.parties[1:]])
    ]
    assert duties["ending_soon"] == [today, in_60]
    assert other not in duties["ending_soon"]
