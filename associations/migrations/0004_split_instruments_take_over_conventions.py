from django.db import migrations

from associations.conventions.takeover import split_both_partnerships, take_over_conventions


def forwards(apps, schema_editor):
    split_both_partnerships(apps)
    take_over_conventions(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("associations", "0003_instruments_conventions_receipts"),
        ("meals", "0002_record_import"),
        ("costing", "0003_rollup_keys_without_constraints"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
