"""The API's JSON parser, bounded before parsing.

Python's ``json`` module parses nested arrays and objects recursively: a body of a few
kilobytes nested thousands deep exhausts the interpreter's recursion limit, a 500 rather than
a 400, and even before authentication (on the token endpoint). ``BoundedJSONParser`` measures
the nesting of the raw text first, skipping what is inside strings, and refuses a body deeper
than ``MAX_DEPTH`` with a 400 before ``json`` sees it. No request of the API needs more than a
few levels.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32

# A JSON string (with its escapes), or one bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING = frozenset(b"[{")


def json_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of a JSON text, counted up to ``limit + 1`` (enough to refuse it)."""
    depth = deepest = 0
    for match in _TOKEN.finditer(raw):
        first = match.group()[0]
        if first in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif first != 0x22:  # a closing bracket (a string starts with ")
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """JSON, refused with a 400 when nested deeper than ``MAX_DEPTH``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if json_depth(raw) > MAX_DEPTH:
            raise ParseError(
                _("Données JSON trop imbriquées : %(max)s niveaux au plus.") % {"max": MAX_DEPTH}
            )
        from io import BytesIO

        return super().parse(BytesIO(raw), media_type, parser_context)
