"""The platform's one way to make a PDF: an HTML document rendered by WeasyPrint.

Reports, conventions, receipts and batch traceability sheets all go through ``render_pdf``.
The fonts a document uses are embedded (WeasyPrint embeds a subset of each); its creation and
modification dates come from the document's own ``dcterms.created`` / ``dcterms.modified``
meta tags (a date the caller fixes from its data, never the clock); and fontTools writes no time
of its own into the font subsets when ``SOURCE_DATE_EPOCH`` is set, as reproducible builds do.
So the same data always give the same bytes.
"""

from __future__ import annotations

import logging
import os

from django.utils import translation

# WeasyPrint logs each layout step at INFO level: keep its warnings and errors only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# A constant (not the time of the render), so that renders in several threads of one process
# never see each other's.
REPRODUCIBLE_EPOCH = "1735689600"  # 2025-01-01 00:00 UTC


def render_pdf(html: str, *, identifier: bytes) -> bytes:
    """The PDF of an HTML document (French), with a fixed identifier (no random part)."""
    from weasyprint import HTML

    os.environ.setdefault("SOURCE_DATE_EPOCH", REPRODUCIBLE_EPOCH)
    with translation.override("fr"):
        return HTML(string=html, base_url=None).write_pdf(pdf_identifier=identifier)
