"""Conventions and receipts as PDF, through the platform's one pipeline (``config.pdf``): an HTML
template rendered in French, then WeasyPrint with its fonts embedded and a fixed creation date,
so the same figures give the same bytes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from config.pdf import render_pdf as html_to_pdf
from evaluation.reports import garbage_collector_tuned_for_report


def render_pdf(template: str, context: dict[str, Any], frozen: dict[str, Any]) -> bytes:
    """The PDF of ``template``; its identifier derives from the frozen data it prints."""
    identifier = hashlib.sha256(json.dumps(frozen, sort_keys=True, default=str).encode()).hexdigest()[:32]
    with translation.override("fr"):
        html = render_to_string(template, context)
    with garbage_collector_tuned_for_report():
        return html_to_pdf(html, identifier=identifier.encode())
