"""Validators of French administrative identifiers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_siret(value: str) -> None:
    """A SIRET has 14 digits and passes the Luhn check (La Poste's own SIRETs excepted)."""
    if len(value) != 14 or not value.isdigit():
        raise ValidationError(_("Un SIRET compte 14 chiffres."), code="siret_format")
    if not luhn_ok(value) and not value.startswith("356000000"):
        raise ValidationError(_("Ce SIRET n'est pas valide (clé de contrôle)."), code="siret_checksum")


def validate_rna(value: str) -> None:
    """An RNA number is a W followed by nine digits or letters (e.g. W751234567)."""
    if len(value) != 10 or value[0] != "W" or not value[1:].isalnum():
        raise ValidationError(_("Un numéro RNA s'écrit W suivi de 9 caractères (ex. W751234567)."))
