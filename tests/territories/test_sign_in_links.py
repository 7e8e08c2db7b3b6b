"""Sign-in links for volunteers (territories.sign_in_links): a coordinator e-mails one, it works
once, expires after SESAME_MAX_AGE, is refused once the membership is removed, and stays within
the coordinator's reach (another association or territory: 404)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse

from territories.models import Membership
from territories.roles import Role
from tests.factories import AssociationFactory, TerritoryFactory, UserFactory, member

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/connexion/lien/(\d+)/\?sesame=(\S+))")


@pytest.fixture
def scene():
    territory = TerritoryFactory(name="Plaine Commune")
    association = AssociationFactory(territory=territory, name="Restos de la Plaine")
    volunteer = member(Role.VOLUNTEER, territory, association=association)
    volunteer.email = "lea@example.org"
    volunteer.first_name, volunteer.last_name = "Léa", "Martin"
    volunteer.save()
    coordinator = member(Role.ASSOCIATION_COORDINATOR, territory, association=association)
    return {
        "territory": territory,
        "association": association,
        "volunteer": volunteer,
        "membership": Membership.objects.get(user=volunteer),
        "coordinator": coordinator,
    }


def send_link(client, sender, membership):
    client.force_login(sender)
    response = client.post(reverse("sign-in-link-send", kwargs={"pk": membership.pk}))
    client.logout()
    return response


def sent_link(index=-1):
    match = LINK.search(mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.group(1), match.group(3)


def test_a_coordinator_emails_a_link_that_signs_in_once_and_opens_a_collecter(client, scene):
    response = send_link(client, scene["coordinator"], scene["membership"])
    assert response.status_code == 302 and response["Location"] == reverse("volunteer-list")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lea@example.org"]
    assert message.subject == "Votre lien de connexion à Passerelle"
    assert "l'association Restos de la Plaine" in message.body
    assert "expire dans 4 heures" in message.body
    path, token = sent_link()

    page = client.get(path)  # opening the link only shows the button: nothing is spent
    assert page.status_code == 200
    assert "Me connecter" in page.content.decode()
    assert client.get(path).status_code == 200

    signed_in = client.post(path.split("?")[0], {"sesame": token})
    assert signed_in.status_code == 302 and signed_in["Location"] == reverse("pickup-todo")
    assert client.get(reverse("pickup-todo")).status_code == 200
    assert int(client.session["_auth_user_id"]) == scene["volunteer"].pk

    # Once used, the same link is refused, opened or posted, by anyone.
    client.logout()
    assert client.get(path).status_code == 403
    refused = client.post(path.split("?")[0], {"sesame": token})
    assert refused.status_code == 403
    assert "n'est plus valable" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_link_expires_after_its_max_age(client, scene):
    start = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        send_link(client, scene["coordinator"], scene["membership"])
    path, token = sent_link()
    assert settings.SESAME_MAX_AGE == 4 * 3600
    last_second = start + datetime.timedelta(seconds=settings.SESAME_MAX_AGE - 1)
    with time_machine.travel(last_second, tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(start + datetime.timedelta(seconds=settings.SESAME_MAX_AGE), tick=False):
        assert client.get(path).status_code == 403
        assert client.post(path.split("?")[0], {"sesame": token}).status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_link_is_refused_once_the_membership_is_removed(client, scene):
    send_link(client, scene["coordinator"], scene["membership"])
    path, token = sent_link()
    assert client.get(path).status_code == 200
    scene["membership"].delete()
    assert client.get(path).status_code == 403
    assert client.post(path.split("?")[0], {"sesame": token}).status_code == 403
    # Given a role again, the volunteer needs a new link: the old one named the removed role.
    Membership.objects.create(
        user=scene["volunteer"], role=Role.VOLUNTEER, territory=scene["territory"],
        association=scene["association"],
    )  # fmt: skip
    assert client.get(path).status_code == 403


def test_a_link_is_bound_to_its_volunteer_and_membership(client, scene):
    other = member(Role.VOLUNTEER, scene["territory"], association=scene["association"])
    other_membership = Membership.objects.get(user=other)
    send_link(client, scene["coordinator"], scene["membership"])
    path, token = sent_link()
    # The token under another membership's address signs nobody in.
    elsewhere = reverse("sign-in-link", kwargs={"pk": other_membership.pk})
    assert client.get(f"{elsewhere}?sesame={token}").status_code == 403
    assert client.post(elsewhere, {"sesame": token}).status_code == 403
    assert client.get(f"{path[:-4]}AAAA").status_code == 403  # a tampered token


def test_passwords_keep_working_and_a_password_change_kills_the_link(client, scene):
    send_link(client, scene["coordinator"], scene["membership"])
    path, _token = sent_link()
    volunteer = scene["volunteer"]
    volunteer.set_password("un-nouveau-mot-de-passe")
    volunteer.save()
    assert client.get(path).status_code == 403
    response = client.post(
        reverse("login"), {"username": volunteer.username, "password": "un-nouveau-mot-de-passe"}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == volunteer.pk


def test_the_authority_coordinator_sends_to_any_volunteer_of_its_territory(client, scene):
    authority_coordinator = member(Role.AUTHORITY_COORDINATOR, scene["territory"])
    response = send_link(client, authority_coordinator, scene["membership"])
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["lea@example.org"]]


def test_nobody_sends_a_link_outside_their_reach(client, scene):
    elsewhere = TerritoryFactory(name="Grand Orly")
    outsider = member(Role.VOLUNTEER, elsewhere)
    outsider.email = "sam@example.org"
    outsider.save()
    outsider_membership = Membership.objects.get(user=outsider)
    neighbour = member(Role.VOLUNTEER, scene["territory"])  # another association, same territory
    neighbour.email = "noa@example.org"
    neighbour.save()
    neighbour_membership = Membership.objects.get(user=neighbour)
    coordinator = scene["coordinator"]
    # Another territory's volunteer: 404, for both kinds of coordinator.
    assert send_link(client, coordinator, outsider_membership).status_code == 404
    authority_coordinator = member(Role.AUTHORITY_COORDINATOR, scene["territory"])
    assert send_link(client, authority_coordinator, outsider_membership).status_code == 404
    # Another association's volunteer: 404 for the association's coordinator.
    assert send_link(client, coordinator, neighbour_membership).status_code == 404
    # Other roles send nothing, even in the territory, and cannot list volunteers.
    for role in (Role.VOLUNTEER, Role.KITCHEN_MANAGER, Role.EVALUATOR, Role.FUNDER):
        user = member(role, scene["territory"] if role not in (Role.EVALUATOR, Role.FUNDER) else None)
        assert send_link(client, user, scene["membership"]).status_code == 404
        client.force_login(user)
        assert client.get(reverse("volunteer-list")).status_code == 403
        client.logout()
    # A coordinator's membership is not a volunteer's: no link to it.
    coordinator_membership = Membership.objects.get(user=coordinator)
    assert send_link(client, authority_coordinator, coordinator_membership).status_code == 404
    assert mail.outbox == []


def test_the_volunteer_list_shows_the_coordinators_volunteers_only(client, scene):
    member(Role.VOLUNTEER, scene["territory"])  # another association's volunteer
    client.force_login(scene["coordinator"])
    response = client.get(reverse("volunteer-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="card"') == 1
    assert "Léa Martin" in html and "lea@example.org" in html
    assert "Envoyer un lien de connexion" in html


def test_a_volunteer_without_an_address_gets_no_link(client, scene):
    volunteer = scene["volunteer"]
    volunteer.email = ""
    volunteer.save()
    client.force_login(scene["coordinator"])
    response = client.post(reverse("sign-in-link-send", kwargs={"pk": scene["membership"].pk}), follow=True)
    assert "Léa Martin n&#x27;a pas d&#x27;adresse e-mail" in response.content.decode()
    assert mail.outbox == []


def test_a_user_without_a_link_gets_the_refusal_page(client, scene):
    path = reverse("sign-in-link", kwargs={"pk": scene["membership"].pk})
    assert client.get(path).status_code == 403
    assert UserFactory().is_active
