"""The limits of a survey's public link: how many online answers it takes, per client and per link.

A link is public: without limits one client can post hundreds of answers in a row, and they
would weigh in the satisfaction indicators. Three limits, each a rate of the API's kind
(``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, counted in the cache like the API's rate limits,
so shared by every web process when ``CACHE_URL`` is set):

- ``survey_client``: answers from one client to one link per minute (nobody fills in a
  questionnaire faster; a tablet passed round at a distribution still can);
- ``survey_client_hour``: answers from one client to one link per hour;
- ``survey_link``: answers to one link per hour, from every client together.

Only stored answers count; an answer over a limit is refused with a French message, nothing
of it is stored, and the link's refusals are counted per day (``SurveyRefusal``) for the
indicators. The client is its address as DRF's throttles see it (``NUM_PROXIES``), kept only
hashed with the secret key, in the cache, for at most an hour: never in the database.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle

from .models import Survey


class AnswerLimit(SimpleRateThrottle):
    """One limit on a link's answers. ``allows()`` checks without counting; ``record()`` counts
    an answer once it is stored."""

    per_client = True
    # Set by DRF's ``SimpleRateThrottle.__init__`` from the scope's rate.
    num_requests: int
    duration: int

    def __init__(self, survey: Survey, request: HttpRequest) -> None:
        super().__init__()
        self.survey = survey
        self.request = request
        self.key = self.get_cache_key(request, None)
        self.history: list[float] = []
        self.now = 0.0

    def get_cache_key(self, request: Any, view: Any) -> str:
        parts = [str(self.scope), str(self.survey.pk)]
        if self.per_client:
            client = f"{settings.SECRET_KEY}:{self.get_ident(request)}"
            parts.append(hashlib.sha256(client.encode()).hexdigest()[:24])
        return "survey-limit:" + ":".join(parts)

    def allows(self) -> bool:
        self.now = self.timer()
        self.history = [
            moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration
        ]
        return len(self.history) < self.num_requests

    def record(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class ClientRate(AnswerLimit):
    scope = "survey_client"


class ClientHourlyCap(AnswerLimit):
    scope = "survey_client_hour"


class LinkHourlyCap(AnswerLimit):
    scope = "survey_link"
    per_client = False


LIMITS: tuple[type[AnswerLimit], ...] = (ClientRate, ClientHourlyCap, LinkHourlyCap)


def answer_limits(survey: Survey, request: HttpRequest) -> list[AnswerLimit]:
    return [limit(survey, request) for limit in LIMITS]
