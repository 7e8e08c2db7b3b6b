"""The receipt's PDF, from its frozen figures alone."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from associations.pdf import render_pdf


def receipt_render(figures: dict[str, Any]) -> bytes:
    context = {
        "figures": figures,
        "issued_on": datetime.date.fromisoformat(figures["issued_on"]),
        "period_start": datetime.date.fromisoformat(figures["period_start"]),
        "period_end": datetime.date.fromisoformat(figures["period_end"]),
        "lines": [
            {**line, "month": datetime.date.fromisoformat(line["month"]), "value": Decimal(line["value"])}
            for line in figures["lines"]
        ],
        "amount": Decimal(figures["amount"]),
        "reduction": (Decimal(figures["amount"]) * Decimal(figures["tax_reduction_rate"])).quantize(
            Decimal("0.01")
        ),
    }
    return render_pdf("associations/pdf/receipt.html", context, figures)
