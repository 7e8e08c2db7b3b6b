"""``manage.py import_records FILE --territory <slug> --user <username> [--dry-run]``.

Loads past batches, pickups and distributions of one territory from a CSV file (see
docs/import.md). The file is loaded whole or not at all; when it is refused the report
lists every error and the command exits with a non-zero status.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from meals.imports import import_records
from territories.models import Territory


class Command(BaseCommand):
    help = "Importe des lots, collectes et distributions passés d'un territoire depuis un fichier CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Fichier CSV (UTF-8, séparateur « ; » ou « , »).")
        parser.add_argument("--territory", required=True, help="Identifiant (slug) du territoire.")
        parser.add_argument("--user", required=True, help="Nom d'utilisateur auteur des enregistrements.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Vérifie le fichier sans rien enregistrer."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            territory = Territory.objects.get(slug=options["territory"])
        except Territory.DoesNotExist as exc:
            raise CommandError(f"Territoire inconnu : {options['territory']}") from exc
        try:
            user = get_user_model().objects.get(username=options["user"], is_active=True)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"Utilisateur inconnu ou inactif : {options['user']}") from exc
        try:
            with open(options["file"], "rb") as file:
                report = import_records(file=file, territory=territory, by=user, dry_run=options["dry_run"])
        except OSError as exc:
            raise CommandError(f"Fichier illisible : {exc}") from exc
        if not report.ok:
            self.stderr.write(report.as_text())
            raise CommandError(f"Fichier refusé : {len(report.errors)} erreur(s), rien n'a été enregistré.")
        self.stdout.write(self.style.SUCCESS(report.as_text()))
