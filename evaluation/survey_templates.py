"""Survey templates ready to use: closed questions only (no free text, so no personal data).

- **Kitchen staff** (``kitchen_staff``): the impact of the programme on the kitchen teams, which
  the evaluation otherwise proxies by user accounts: the meaning of their work, their workload,
  their pride.
- **Beneficiaries** (``beneficiary``): satisfaction, quantity, taste, and the dignity of the
  reception.

``survey_from_template`` creates a survey from one (``POST /api/v1/surveys/`` with
``"template"`` instead of ``"questions"``); its answers become indicators like any survey's
(``evaluation.indicators``, one per question) and the Carasso report prints them
(``evaluation.programme``, table ``voices``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .models import Survey

SCALE = "scale"
YES_NO = "yes_no"

TEMPLATES: dict[str, dict[str, Any]] = {
    Survey.Kind.KITCHEN_STAFF: {
        "title": _("Les repas pour l'aide alimentaire vus par l'équipe de cuisine"),
        "introduction": _(
            "Questionnaire anonyme : aucune question ne porte sur vous. Répondez de 1 (pas du tout) à 5 "
            "(tout à fait)."
        ),
        "questions": [
            {"code": "meaning", "kind": SCALE,
             "text": _("Préparer ces repas pour l'aide alimentaire donne du sens à mon travail.")},
            {"code": "workload", "kind": SCALE,
             "text": _("La charge de travail liée à ces repas est supportable pour l'équipe.")},
            {"code": "pride", "kind": SCALE,
             "text": _("Je suis fier ou fière que la cuisine participe à ce programme.")},
            {"code": "continue", "kind": YES_NO,
             "text": _("Souhaitez-vous que la cuisine continue à préparer ces repas ?")},
        ],
    },
    Survey.Kind.BENEFICIARY: {
        "title": _("Votre avis sur les repas distribués"),
        "introduction": _(
            "Questionnaire anonyme : ni nom ni adresse. Répondez de 1 (pas du tout) à 5 (tout à fait)."
        ),
        "questions": [
            {"code": "satisfaction", "kind": SCALE, "text": _("Êtes-vous satisfait(e) du repas reçu ?")},
            {"code": "quantity", "kind": SCALE, "text": _("La quantité vous a-t-elle suffi ?")},
            {"code": "taste", "kind": SCALE, "text": _("Le repas était-il bon ?")},
            {"code": "dignity", "kind": SCALE,
             "text": _("Avez-vous été accueilli(e) avec respect et dans de bonnes conditions ?")},
        ],
    },
}  # fmt: skip


def template_of(kind: str) -> dict[str, Any]:
    """A template's title, introduction and questions, in the active language."""
    template = TEMPLATES[kind]
    return {
        "title": str(template["title"]),
        "introduction": str(template["introduction"]),
        "questions": [{**question, "text": str(question["text"])} for question in template["questions"]],
    }
