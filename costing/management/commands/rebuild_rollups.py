import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from costing import rollups
from territories.models import Territory


class Command(BaseCommand):
    help = "Recalcule les agrégats journaliers (roll-ups) d'une période, pour un territoire ou tous."

    def add_arguments(self, parser):
        parser.add_argument("--territory", help="Identifiant (slug) du territoire ; tous par défaut.")
        parser.add_argument(
            "--since", help="Premier jour (AAAA-MM-JJ) ; par défaut le premier jour d'activité."
        )
        parser.add_argument("--until", help="Dernier jour (AAAA-MM-JJ) ; aujourd'hui par défaut.")

    def handle(self, *args, territory=None, since=None, until=None, **options):
        territories = Territory.objects.all_territories()
        if territory:
            territories = territories.filter(slug=territory)
            if not territories.exists():
                raise CommandError(f"Territoire inconnu : {territory}")
        until_day = parse_day(until, "--until") if until else timezone.localdate()
        since_day = parse_day(since, "--since") if since else first_activity_day() or until_day
        if since_day > until_day:
            raise CommandError("--since est postérieur à --until.")
        ids = list(territories.values_list("pk", flat=True))
        rows = rollups.rebuild(territory_ids=ids, since=since_day, until=until_day)
        days = (until_day - since_day).days + 1
        self.stdout.write(
            self.style.SUCCESS(f"{len(ids)} territoire(s), {days} jour(s) recalculés : {rows} ligne(s).")
        )


def parse_day(value: str, option: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option} : date attendue au format AAAA-MM-JJ, reçu « {value} ».") from error


def first_activity_day() -> datetime.date | None:
    from meals.models import Batch

    first = (
        Batch.objects.all_territories().order_by("production_date").values_list("production_date", flat=True)
    )
    return first.first()
