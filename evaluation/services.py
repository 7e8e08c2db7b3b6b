"""Writes of the evaluation: observation journal entries, surveys and their answers.

Every write runs the model's own rules (``full_clean``), then is saved inside a transaction
and checked against ``for_user(by, "change")``: a user writing outside their reach (an entry
for a territory they do not belong to) gets ``PermissionDenied`` and nothing is written.
Survey answers are checked against the survey's questions by ``answer_errors``; an answer
is anonymous: nothing about the respondent is taken, not even for an answer given online.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import JournalEntry, Survey, SurveyQuestion, SurveyRefusal, SurveyResponse

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from associations.models import Association
    from kitchens.models import Kitchen
    from territories.models import Authority, Territory

SCALE = range(1, 6)
MAX_QUESTIONS = 30


def new_public_token() -> str:
    """The unguessable address of a survey's online form (43 characters)."""
    return secrets.token_urlsafe(32)


def save_within_reach(instance: models.Model, by: Any) -> None:
    """Saves ``instance`` if ``by`` may change it, else rolls back and raises PermissionDenied."""
    with transaction.atomic():
        instance.save()
        reachable = type(instance).objects.for_user(by, "change")  # type: ignore[attr-defined]
        if not reachable.filter(pk=instance.pk).exists():
            raise PermissionDenied(_("Votre rôle ne permet pas d'écrire ici."))


def not_in_future(day: datetime.date | None, field: str) -> None:
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: _("Cette date est dans le futur.")})


# --- Observation journal ----------------------------------------------------------------


def journal_entry_create(
    *,
    by: User,
    territory: Territory,
    observed_on: datetime.date,
    category: str,
    nature: str,
    title: str,
    text: str,
    kitchen: Kitchen | None = None,
    association: Association | None = None,
    authority: Authority | None = None,
    shared_with_funders: bool = False,
    theme: str = "",
) -> JournalEntry:
    """A dated observation by an authority coordinator of the territory or an evaluator."""
    entry = JournalEntry(
        territory=territory,
        author=by,
        observed_on=observed_on,
        category=category,
        nature=nature,
        title=title,
        text=text,
        kitchen=kitchen,
        association=association,
        authority=authority,
        shared_with_funders=shared_with_funders,
        theme=theme,
    )
    not_in_future(observed_on, "observed_on")
    entry.full_clean()
    save_within_reach(entry, by)
    return entry


JOURNAL_FIELDS = {
    "territory", "observed_on", "category", "nature", "title", "text", "kitchen", "association", "authority",
    "shared_with_funders", "theme",
}  # fmt: skip


def journal_entry_update(*, entry: JournalEntry, by: User, **changes: Any) -> JournalEntry:
    """Corrects an entry; its author stays who wrote it. The new territory must be within reach too."""
    unknown = set(changes) - JOURNAL_FIELDS
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if not JournalEntry.objects.for_user(by, "change").filter(pk=entry.pk).exists():
        raise PermissionDenied(_("Votre rôle ne permet pas d'écrire ici."))
    for name, value in changes.items():
        setattr(entry, name, value)
    not_in_future(entry.observed_on, "observed_on")
    entry.full_clean()
    save_within_reach(entry, by)
    return entry


# --- Surveys ----------------------------------------------------------------------------


def question_rows(questions: Iterable[Mapping[str, Any]]) -> list[SurveyQuestion]:
    """Unsaved questions, checked one by one and together (codes unique, 1 to MAX_QUESTIONS)."""
    rows: list[SurveyQuestion] = []
    errors: list[str] = []
    seen: set[str] = set()
    for position, data in enumerate(questions, start=1):
        question = SurveyQuestion(
            position=data.get("position") or position,
            code=data.get("code", ""),
            text=data.get("text", ""),
            kind=data.get("kind", ""),
            choices=list(data.get("choices") or []),
        )
        try:
            question.full_clean(exclude=["survey"], validate_constraints=False)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.extend(
                    _("Question %(number)s, %(field)s : %(message)s")
                    % {"number": position, "field": field, "message": message}
                    for message in messages
                )
        if question.code in seen:
            errors.append(
                _("Question %(number)s : le code « %(code)s » est déjà pris.")
                % {"number": position, "code": question.code}
            )
        if not all(isinstance(choice, str) and choice.strip() for choice in question.choices):
            errors.append(
                _("Question %(number)s : chaque choix est un texte non vide.") % {"number": position}
            )
        elif len(set(question.choices)) != len(question.choices):
            errors.append(_("Question %(number)s : un choix est en double.") % {"number": position})
        seen.add(question.code)
        rows.append(question)
    if not rows:
        errors.append(_("Un questionnaire a au moins une question."))
    if len(rows) > MAX_QUESTIONS:
        errors.append(_("Un questionnaire a au plus %(count)s questions.") % {"count": MAX_QUESTIONS})
    if errors:
        raise ValidationError({"questions": errors})
    return rows


def survey_create(
    *,
    by: User,
    territory: Territory,
    kind: str,
    title: str,
    questions: Iterable[Mapping[str, Any]],
    introduction: str = "",
    is_open: bool = True,
) -> Survey:
    """A survey with its questions, defined by an evaluator; its online address is a fresh token."""
    survey = Survey(
        territory=territory,
        kind=kind,
        title=title,
        introduction=introduction,
        is_open=is_open,
        created_by=by,
        public_token=new_public_token(),
    )
    survey.full_clean()
    rows = question_rows(questions)
    with transaction.atomic():
        save_within_reach(survey, by)
        for row in rows:
            row.survey = survey
        SurveyQuestion.objects.bulk_create(rows)
    return survey


SURVEY_FIELDS = {"territory", "kind", "title", "introduction", "is_open"}


def survey_update(
    *, survey: Survey, by: User, questions: Iterable[Mapping[str, Any]] | None = None, **changes: Any
) -> Survey:
    """Changes a survey; its questions are replaced only while nobody has answered it."""
    unknown = set(changes) - SURVEY_FIELDS
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if not Survey.objects.for_user(by, "change").filter(pk=survey.pk).exists():
        raise PermissionDenied(_("Votre rôle ne permet pas d'écrire ici."))
    answered = survey.responses.exists()
    if answered and changes.get("territory", survey.territory) != survey.territory:
        raise ValidationError(
            {"territory": _("Ce questionnaire a déjà des réponses : il reste dans son territoire.")}
        )
    for name, value in changes.items():
        setattr(survey, name, value)
    survey.full_clean()
    rows = None
    if questions is not None:
        if answered:
            raise ValidationError(
                {
                    "questions": _(
                        "Ce questionnaire a déjà des réponses : ses questions ne peuvent plus changer."
                    )
                }
            )
        rows = question_rows(questions)
    with transaction.atomic():
        save_within_reach(survey, by)
        if rows is not None:
            survey.questions.all().delete()
            for row in rows:
                row.survey = survey
            SurveyQuestion.objects.bulk_create(rows)
    return survey


# --- Answers ----------------------------------------------------------------------------


def answer_errors(questions: Iterable[SurveyQuestion], answers: Any) -> dict[str, list[str]]:
    """What is wrong with a set of answers, by question code ("" for the whole set).

    An answer is an integer from 1 to 5 (scale), true or false (yes / no) or one of the listed
    choices (choice); a question may be left unanswered (absent or null), but not all of them."""
    if not isinstance(answers, dict):
        return {"": [_("Les réponses sont un objet : code de la question → réponse.")]}
    by_code = {question.code: question for question in questions}
    errors: dict[str, list[str]] = {}
    for code, value in answers.items():
        question = by_code.get(code)
        if question is None:
            errors.setdefault(code, []).append(
                _("Ce questionnaire n'a pas de question « %(code)s ».") % {"code": code}
            )
            continue
        if value is None:
            continue
        if question.kind == SurveyQuestion.Kind.SCALE:
            if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
                errors.setdefault(code, []).append(_("La note est un nombre entier de 1 à 5."))
        elif question.kind == SurveyQuestion.Kind.YES_NO:
            if not isinstance(value, bool):
                errors.setdefault(code, []).append(_("La réponse est oui (true) ou non (false)."))
        elif not isinstance(value, str) or value not in (question.choices or []):
            errors.setdefault(code, []).append(
                _("La réponse n'est pas l'un des choix proposés : %(choices)s.")
                % {"choices": ", ".join(question.choices or [])}
            )
    if not errors and not any(value is not None for value in answers.values()):
        errors[""] = [_("Répondez à au moins une question.")]
    return errors


def answers_error(errors: dict[str, list[str]]) -> ValidationError:
    messages = [
        f"{code} : {message}" if code else message for code, items in errors.items() for message in items
    ]
    return ValidationError({"answers": messages})


def survey_response_record(
    *,
    survey: Survey,
    channel: str,
    answers: dict[str, Any],
    answered_on: datetime.date | None = None,
    by: User | None = None,
) -> SurveyResponse:
    """One anonymous set of answers. On paper, entered by ``by`` (an evaluator or an authority
    coordinator of the survey's territory) with the day it was answered; online, ``by`` is None
    and the day is today. Nothing about the respondent nor the person entering it is stored."""
    if channel == SurveyResponse.Channel.ONLINE and by is not None:
        raise TypeError("an online answer has no user")
    if channel == SurveyResponse.Channel.PAPER and by is None:
        raise TypeError("a paper answer is entered by someone")
    if not survey.is_open:
        raise ValidationError({"survey": _("Ce questionnaire est clos : il ne reçoit plus de réponses.")})
    if channel == SurveyResponse.Channel.ONLINE or answered_on is None:
        answered_on = timezone.localdate()
    not_in_future(answered_on, "answered_on")
    errors = answer_errors(survey.questions.all(), answers)
    if errors:
        raise answers_error(errors)
    kept = {code: value for code, value in answers.items() if value is not None}
    response = SurveyResponse(
        territory_id=survey.territory_id,
        survey=survey,
        channel=channel,
        answered_on=answered_on,
        answers=kept,
    )
    response.full_clean()
    if by is None:
        response.save()
    else:
        save_within_reach(response, by)
    return response


def survey_answer_refused(*, survey: Survey) -> None:
    """Counts one online answer the survey's link refused today (over a limit); stores nothing of it."""
    row, _created = SurveyRefusal.objects.get_or_create(
        survey=survey, day=timezone.localdate(), defaults={"territory_id": survey.territory_id}
    )
    SurveyRefusal.objects.filter(pk=row.pk).update(count=models.F("count") + 1)


def survey_response_update(
    *,
    response: SurveyResponse,
    by: User,
    answers: dict[str, Any] | None = None,
    answered_on: datetime.date | None = None,
) -> SurveyResponse:
    """Corrects a paper entry (its answers or its day), checked again against the questions."""
    if not SurveyResponse.objects.for_user(by, "change").filter(pk=response.pk).exists():
        raise PermissionDenied(_("Votre rôle ne permet pas d'écrire ici."))
    if answered_on is not None:
        not_in_future(answered_on, "answered_on")
        response.answered_on = answered_on
    if answers is not None:
        errors = answer_errors(response.survey.questions.all(), answers)
        if errors:
            raise answers_error(errors)
        response.answers = {code: value for code, value in answers.items() if value is not None}
    response.full_clean()
    save_within_reach(response, by)
    return response
