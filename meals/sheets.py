"""The traceability sheet of a batch: one A4 page the volunteer can show at the site.

It prints what travels with the batch (Regulation (EC) 178/2002 art. 18, traceability one step
back and one step forward; Regulation (EU) 1169/2011 annex II for the 14 allergens): the
kitchen and its sanitary approval, the lot, production and use-by dates, temperatures,
allergens, dishes, portions, reheating instructions, the association that took it and where
its meals went. Rendered by the platform's one pipeline (``config.pdf.render_pdf``); its dates
come from the batch (declared on), so the same batch gives the same bytes.
"""

from __future__ import annotations

import hashlib

from django.template.loader import render_to_string
from django.utils import timezone, translation

from config.pdf import render_pdf

from .models import Batch, Distribution, Pickup


def sheet_context(batch: Batch) -> dict[str, object]:
    pickup = Pickup.objects.filter(batch=batch).select_related("association", "picked_up_by").first()
    distributions = list(
        Distribution.objects.all_territories()
        .filter(batch=batch)
        .select_related("site")
        .order_by("distributed_on", "pk")
    )
    return {
        "batch": batch,
        "kitchen": batch.kitchen,
        "association": batch.association,
        "pickup": pickup,
        "distributions": distributions,
        "declared_on": timezone.localtime(batch.created_at).date(),
    }


def batch_sheet_html(batch: Batch) -> str:
    with translation.override("fr"):
        return render_to_string("meals/batch_sheet.html", sheet_context(batch))


def batch_sheet_pdf(batch: Batch) -> bytes:
    """The sheet's PDF; callers check the reader may see the batch."""
    batch = (
        Batch.objects.all_territories().select_related("kitchen", "association", "territory").get(pk=batch.pk)
    )
    html = batch_sheet_html(batch)
    identifier = hashlib.sha256(html.encode()).hexdigest()[:32].encode()
    return render_pdf(html, identifier=identifier)


def sheet_file_name(batch: Batch) -> str:
    lot = "".join(char if char.isalnum() or char in "-_" else "-" for char in batch.lot_number)
    return f"fiche-tracabilite-lot-{lot}.pdf"
