"""Conventions and receipts as PDF, through the reports' pipeline: an HTML template rendered in
French, then WeasyPrint with its fonts embedded and a fixed creation date, so the same figures
give the same bytes (see evaluation.reports)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from evaluation.reports import REPRODUCIBLE_EPOCH, garbage_collector_tuned_for_report


def render_pdf(template: str, context: dict[str, Any], frozen: dict[str, Any]) -> bytes:
    """The PDF of ``template``; its identifier derives from the frozen data it prints."""
    from weasyprint import HTML

    identifier = hashlib.sha256(json.dumps(frozen, sort_keys=True, default=str).encode()).hexdigest()[:32]
    os.environ.setdefault("SOURCE_DATE_EPOCH", REPRODUCIBLE_EPOCH)
    with translation.override("fr"):
        html = render_to_string(template, context)
        with garbage_collector_tuned_for_report():
            return HTML(string=html, base_url=None).write_pdf(pdf_identifier=identifier.encode())
