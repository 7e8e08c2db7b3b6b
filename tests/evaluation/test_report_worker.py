"""A report whose build fails on a real worker: the evaluator reads "failed" with a message, asks
again, and downloads the PDF.

The build really fails: the worker cannot write the PDF where the media folder should be (a
file stands in its way), as with a full or read-only disk. Nothing is mocked; the task goes
through Redis to a Celery worker, as in production.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from evaluation.models import Report
from territories.roles import Role
from tests.conftest import wait_for
from tests.evaluation.reporting import END, START, pilot, references
from tests.factories import member

pytestmark = pytest.mark.django_db(transaction=True)


def finished(client: APIClient, url: str) -> dict | None:
    status = client.get(url).json()
    return status if status["status"] in ("done", "failed") else None


def test_a_report_that_fails_on_the_worker_says_why_and_is_built_when_asked_again(
    real_worker, settings, tmp_path
):
    references()
    plaine = pilot()
    client = APIClient()
    client.force_login(member(Role.EVALUATOR))
    blocked = tmp_path / "media-is-a-file"
    blocked.write_text("")
    settings.MEDIA_ROOT = blocked / "media"  # cannot be created: a file is where the folder goes

    asked = client.post(
        reverse("api:report-list"),
        {"kind": "drihl", "territory": plaine.territory.pk, "period_start": START, "period_end": END},
        format="json",
    )
    assert asked.status_code == 202, asked.content
    url = reverse("api:report-detail", kwargs={"pk": asked.json()["id"]})
    status = wait_for(lambda: finished(client, url), "the worker to build the report")
    assert status["status"] == "failed"
    assert status["message"].startswith("La construction du rapport a échoué")
    assert "vous pouvez relancer le rapport" in status["message"]
    assert "NotADirectoryError : Not a directory" in status["message"]
    assert str(tmp_path) not in status["message"]  # no path of the server shown
    assert status["download_url"] is None
    report = Report.objects.get(pk=asked.json()["id"])
    assert (report.figures, report.pdf.name) == ({}, "")  # nothing half-stored

    settings.MEDIA_ROOT = tmp_path / "media"  # the disk is back
    again = client.post(reverse("api:report-retry", kwargs={"pk": report.pk}))
    assert again.status_code == 202, again.content
    status = wait_for(lambda: finished(client, url), "the worker to build the report again")
    assert (status["status"], status["progress"], status["message"]) == ("done", 100, "")
    download = client.get(status["download_url"])
    assert download.status_code == 200
    pdf = PdfReader(io.BytesIO(b"".join(download.streaming_content)))
    assert plaine.territory.name in pdf.pages[0].extract_text()
