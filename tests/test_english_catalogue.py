"""The English catalogue covers every msgid the project marks for translation.

``makemessages`` is run on a copy of the sources (the real catalogue is left as it is, its
order kept), then gettext's ``msgattrib`` lists the entries still untranslated or fuzzy — a
fuzzy entry is msgmerge's guess from a near msgid, shown in French-or-wrong English until a
person confirms it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MSGATTRIB = shutil.which("msgattrib")
SKIPPED = shutil.ignore_patterns(".venv", ".git", "node_modules", "__pycache__", "*.mo", "media*")


def _msgids(po_text: str) -> list[str]:
    """The msgids of a .po text (continuation lines joined), header left out."""
    msgids: list[str] = []
    current: list[str] | None = None
    for line in po_text.splitlines():
        if line.startswith("msgid "):
            current = [line[len("msgid ") :].strip('"')]
        elif current is not None and line.startswith('"'):
            current.append(line.strip('"'))
        elif current is not None:
            msgids.append("".join(current))
            current = None
    if current is not None:
        msgids.append("".join(current))
    return [msgid for msgid in msgids if msgid]


def test_msgids_parser_reads_a_wrapped_entry():
    po = 'msgid ""\nmsgstr ""\n"Language: en\\n"\n\nmsgid ""\n"Deux "\n"lignes"\nmsgstr ""\n'
    assert _msgids(po) == ["Deux lignes"]


def _entries(po: Path, which: str) -> list[str]:
    """The msgids ``msgattrib`` keeps with ``which`` (``--untranslated``, ``--only-fuzzy``)."""
    assert MSGATTRIB is not None
    listed = subprocess.run([MSGATTRIB, which, str(po)], check=True, capture_output=True, text=True)  # noqa: S603
    return _msgids(listed.stdout)


@pytest.mark.skipif(MSGATTRIB is None, reason="gettext tools not installed")
def test_english_catalogue_has_no_untranslated_or_fuzzy_entry(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=SKIPPED)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete", "--ignore=tests"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    po = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    assert _entries(po, "--untranslated") == []
    assert _entries(po, "--only-fuzzy") == []
