"""Celery tasks shared by every app: thin wrappers around their services."""

from celery import shared_task

from . import media


@shared_task
def delete_orphan_files() -> int:
    return len(media.orphan_files_delete())
