import datetime

import pytest
from django.core import mail

from meals import tasks
from territories.roles import Role
from tests.conftest import wait_for
from tests.factories import member

pytestmark = pytest.mark.django_db(transaction=True)


def test_association_is_told_when_a_batch_is_ready(scene, task_runner):
    scene.volunteer.email = "benevole@asso.example"
    scene.volunteer.save()
    coordinator = member(
        Role.ASSOCIATION_COORDINATOR, scene.territory, association=scene.partnership.association
    )
    coordinator.email = "coordination@asso.example"
    coordinator.save()
    outsider = member(Role.VOLUNTEER, scene.territory)  # of another association: not told
    outsider.email = "autre@asso.example"
    outsider.save()

    batch = scene.batch(meals_count=80, lot_number="L-NOTIF")

    wait_for(lambda: len(mail.outbox) == 2, "the worker to send the two e-mails")
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["benevole@asso.example", "coordination@asso.example"]
    assert "80 repas" in mail.outbox[0].subject
    assert f"/lots/{batch.pk}/" in mail.outbox[0].body


def test_reminder_the_day_before_the_use_by_date(scene, task_runner):
    scene.volunteer.email = "benevole@asso.example"
    scene.volunteer.save()
    today = datetime.date.today()
    due = scene.batch(lot_number="DUE", use_by_date=today + datetime.timedelta(days=1))
    scene.batch(lot_number="LATER", use_by_date=today + datetime.timedelta(days=3))
    # Dedicated meals: a donation with less than 48 hours of use-by left could not be taken.
    collected = scene.batch(
        lot_number="TAKEN", use_by_date=today + datetime.timedelta(days=1), kind="dedicated"
    )
    scene.pickup(collected)

    tasks.remind_unpicked_batches.delay()

    def reminders():
        return [message for message in mail.outbox if "à collecter avant demain" in message.subject]

    sent = wait_for(reminders, "the worker to send the reminder")
    assert len(sent) == 1
    assert sent[0].to == ["benevole@asso.example"]
    assert due.lot_number in sent[0].subject
