"""Stored files that no row refers to any more, and their removal.

Uploads and generated documents live under ``MEDIA_ROOT`` in folders of their own
(``MANAGED_FOLDERS``: signed conventions, CSV imports, donation receipts, report PDFs). A file
is an orphan when no ``FileField`` of any model names it: a convention replaced by a new version, a report
built again under a new name, an upload whose transaction was rolled back. A nightly task
removes orphans older than ``GRACE``; the grace leaves alone a file whose row is still being
written in a transaction not yet committed.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from django.core.files.storage import Storage

MANAGED_FOLDERS = ("conventions", "imports", "receipts", "reports")
GRACE = datetime.timedelta(hours=1)


def referenced_files() -> set[str]:
    """The names every file field of every row holds, in every territory."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                rows = model._base_manager.exclude(**{field.name: ""}).exclude(
                    **{f"{field.name}__isnull": True}
                )
                names.update(rows.values_list(field.name, flat=True))
    return names


def stored_files(storage: Storage, folder: str) -> list[str]:
    """Every file under a folder of the storage, by its storage name."""
    if not storage.exists(folder):
        return []
    directories, files = storage.listdir(folder)
    found = [f"{folder}/{name}" for name in files]
    for directory in directories:
        found.extend(stored_files(storage, f"{folder}/{directory}"))
    return found


def orphan_files(*, storage: Storage = default_storage, older_than: datetime.timedelta = GRACE) -> list[str]:
    """Files of the managed folders that no row refers to, last modified before ``older_than`` ago."""
    referenced = referenced_files()
    cutoff = timezone.now() - older_than
    return sorted(
        name
        for folder in MANAGED_FOLDERS
        for name in stored_files(storage, folder)
        if name not in referenced and storage.get_modified_time(name) < cutoff
    )


def orphan_files_delete(
    *, storage: Storage = default_storage, older_than: datetime.timedelta = GRACE
) -> list[str]:
    """Removes the orphan files; returns their names."""
    names = orphan_files(storage=storage, older_than=older_than)
    for name in names:
        storage.delete(name)
    return names
