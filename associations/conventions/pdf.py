"""The convention's PDF in French, from a version's frozen terms and its signatures (the same
pipeline as the reports, ``associations.pdf``). Each version prints its own terms, so an earlier
version reads as it was signed."""

from __future__ import annotations

import datetime
from typing import Any

from associations.models import Weekday
from associations.pdf import render_pdf
from meals.food_safety import DONATION_MIN_DELAY

from .models import ConventionVersion, Party

# Code de l'environnement D541-310 1°: at least 48 hours before the use-by date at handover (the
# same rule the pickups follow, ``meals.food_safety.donation_delay``).
DONATION_MIN_HOURS = DONATION_MIN_DELAY // datetime.timedelta(hours=1)


def day(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def convention_render(version: ConventionVersion) -> bytes:
    terms = version.terms
    labels = dict(Weekday.choices)
    signatures = {signature.party: signature for signature in version.signatures.all()}
    context: dict[str, Any] = {
        "version": version,
        "terms": terms,
        "donation": terms.get("instrument") == "surplus",
        # D541-310 1°: under 48 hours of use-by time left at handover only when the association
        # shows it distributes sooner; the convention's delay is that showing.
        "short_delay": (terms.get("distribution_delay_hours") or DONATION_MIN_HOURS) < DONATION_MIN_HOURS,
        "starts_on": day(terms.get("starts_on")),
        "ends_on": day(terms.get("ends_on")),
        "habilitation_expires_on": day((terms.get("association") or {}).get("habilitation_expires_on")),
        "pickup_days": [str(labels.get(code, code)) for code in terms.get("pickup_days") or []],
        "parties": [
            {"code": party, "label": str(Party(party).label), "signature": signatures.get(party)}
            for party in version.parties
        ],
        "earlier": list(version.partnership.versions.filter(number__lt=version.number).order_by("number")),
    }
    frozen = {
        "terms": terms,
        "number": version.number,
        "signatures": sorted(
            (s.party, s.signed_on.isoformat(), s.signer_name, s.signer_title) for s in signatures.values()
        ),
    }
    return render_pdf("associations/pdf/convention.html", context, frozen)
