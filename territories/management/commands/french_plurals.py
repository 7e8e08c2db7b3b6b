"""Writes the French plurals catalogue (locale/fr/LC_MESSAGES/django.po) from the English one.

French is the interface's source language, so its messages need no catalogue, except for their
plural forms: with no French entry, ``ngettext`` falls back on the rule of the source strings
(n != 1) and "0 ligne" prints as "0 lignes", whereas French takes the singular for 0 and 1
(CLDR plural rules for French: "one" is i = 0,1). The French catalogue therefore holds every
plural message of the English catalogue (which has them all, the interface being translated),
with its singular and plural as written, under French's rule ``plural=(n > 1)``.

Run it after adding a plural message, then ``compilemessages``; ``tests/test_plurals.py`` fails
while the French catalogue lacks one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

HEADER = """\
# Passerelle: the French plural forms (written by `python manage.py french_plurals` from the
# English catalogue; do not edit by hand). French takes the singular for 0 and 1.
msgid ""
msgstr ""
"Project-Id-Version: Passerelle\\n"
"PO-Revision-Date: 2026-12-06 12:00+0100\\n"
"Last-Translator: Passerelle team\\n"
"Language-Team: French\\n"
"Language: fr\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"
"""
KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+"(.*)"$')
CONTINUATION = re.compile(r'^"(.*)"$')


def catalogue_path(language: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"


def entries(text: str) -> list[dict[str, str]]:
    """The entries of a catalogue: each keyword with its string as written (escapes kept)."""
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    keyword = ""
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                found.append(current)
            current, keyword = {}, ""
            continue
        if line.startswith("#"):
            continue
        if match := KEYWORD.match(line):
            keyword = match[1]
            current[keyword] = match[2]
        elif (match := CONTINUATION.match(line)) and keyword:
            current[keyword] += match[1]
    return found


def plural_entries(text: str) -> list[dict[str, str]]:
    return [entry for entry in entries(text) if "msgid_plural" in entry]


def french_catalogue(english: str) -> str:
    blocks = [HEADER]
    seen: set[tuple[str, str]] = set()
    for entry in plural_entries(english):
        key = (entry.get("msgctxt", ""), entry["msgid"])
        if key in seen:
            continue
        seen.add(key)
        lines = []
        if "msgctxt" in entry:
            lines.append(f'msgctxt "{entry["msgctxt"]}"')
        lines += [
            f'msgid "{entry["msgid"]}"',
            f'msgid_plural "{entry["msgid_plural"]}"',
            f'msgstr[0] "{entry["msgid"]}"',
            f'msgstr[1] "{entry["msgid_plural"]}"',
        ]
        if "%(" in entry["msgid"] + entry["msgid_plural"]:
            lines.insert(0, "#, python-format")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


class Command(BaseCommand):
    help = "Writes locale/fr/LC_MESSAGES/django.po: the French plural forms of every plural message."

    def handle(self, *args: Any, **options: Any) -> None:
        english = catalogue_path("en").read_text(encoding="utf-8")
        target = catalogue_path("fr")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = french_catalogue(english)
        target.write_text(text, encoding="utf-8")
        self.stdout.write(f"{target}: {len(plural_entries(text))} plural messages.")
