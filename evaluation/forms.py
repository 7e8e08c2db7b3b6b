"""Browser forms of the observation journal and the surveys.

Forms parse what was typed; the rules live in ``evaluation.services``, whose errors are put
back on the fields (``add_service_errors``). Choice lists come from querysets scoped by
``for_user``, so another territory's ids never validate. The answer form builds one field
per question of the survey and has no field for anything about the respondent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from associations.models import Association
from kitchens.models import Kitchen
from meals.forms import DateInput, FlowForm
from territories.models import Authority, Territory

from .models import JournalEntry, Survey, SurveyQuestion
from .services import MAX_QUESTIONS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SCALE_CHOICES = [(str(note), str(note)) for note in range(1, 6)]
YES_NO_CHOICES = [("yes", _("Oui")), ("no", _("Non"))]


class JournalFilterForm(forms.Form):
    """The journal list's filters: category and nature (the territory has its own form)."""

    category = forms.ChoiceField(
        label=_("Catégorie"),
        choices=[("", _("Toutes les catégories")), *JournalEntry.Category.choices],
        required=False,
    )
    nature = forms.ChoiceField(
        label=_("Frein ou levier"),
        choices=[("", _("Freins et leviers")), *JournalEntry.Nature.choices],
        required=False,
    )


class ActorChoiceField(forms.ModelChoiceField):
    """An actor listed with its territory, for those who see several."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.territory})"


class JournalEntryForm(FlowForm):
    """A dated observation: an obstacle or a lever of a territory, optionally about one actor."""

    territory = forms.ModelChoiceField(label=_("Territoire"), queryset=Territory.objects.none())
    observed_on = forms.DateField(label=_("Date de l'observation"), widget=DateInput)
    nature = forms.ChoiceField(
        label=_("Frein, levier ou décision"), choices=JournalEntry.Nature.choices, widget=forms.RadioSelect
    )
    category = forms.ChoiceField(
        label=_("Catégorie"), choices=JournalEntry.Category.choices, widget=forms.RadioSelect
    )
    theme = forms.ChoiceField(
        label=_("Thème"),
        choices=[("", _("Sans thème")), *JournalEntry.Theme.choices],
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Pour les conditions de réplication du modèle."),
    )
    title = forms.CharField(label=_("Titre"), max_length=200)
    text = forms.CharField(label=_("Observation"), widget=forms.Textarea(attrs={"rows": 6}))
    kitchen = ActorChoiceField(label=_("Cuisine concernée"), queryset=Kitchen.objects.none(), required=False)
    association = ActorChoiceField(
        label=_("Association concernée"), queryset=Association.objects.none(), required=False
    )
    authority = ActorChoiceField(
        label=_("Collectivité concernée"), queryset=Authority.objects.none(), required=False
    )
    shared_with_funders = forms.BooleanField(
        label=_("Partager avec les financeurs"),
        required=False,
        help_text=_(
            "Les financeurs du territoire liront cette observation, ainsi que les rapports qui leur "
            "sont destinés. Sinon, elle reste une note de travail."
        ),
    )

    def __init__(
        self,
        *args: Any,
        territories: QuerySet[Territory],
        kitchens: QuerySet[Kitchen],
        associations: QuerySet[Association],
        authorities: QuerySet[Authority],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = territories  # type: ignore[attr-defined]
        self.fields["kitchen"].queryset = kitchens  # type: ignore[attr-defined]
        self.fields["association"].queryset = associations  # type: ignore[attr-defined]
        self.fields["authority"].queryset = authorities  # type: ignore[attr-defined]


class SurveyAnswerForm(FlowForm):
    """One field per question of the survey, every one optional; nothing else.

    Scale answers become integers, yes / no answers booleans, choices their text: what
    ``evaluation.services.answer_errors`` expects."""

    def __init__(self, *args: Any, questions: list[SurveyQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[self.field_name(question)] = self.field_for(question)

    @staticmethod
    def field_name(question: SurveyQuestion) -> str:
        """Prefixed, so that no question code can collide with another field."""
        return f"q_{question.code}"

    @staticmethod
    def field_for(question: SurveyQuestion) -> forms.Field:
        choices: list[tuple[str, Any]]
        help_text: StrOrPromise = ""
        if question.kind == SurveyQuestion.Kind.SCALE:
            choices = SCALE_CHOICES
            help_text = _("De 1 (pas du tout) à 5 (tout à fait).")
        elif question.kind == SurveyQuestion.Kind.YES_NO:
            choices = YES_NO_CHOICES
        else:
            choices = [(choice, choice) for choice in question.choices or []]
        return forms.ChoiceField(
            label=question.text,
            choices=choices,
            widget=forms.RadioSelect,
            required=False,
            help_text=help_text,
        )

    def answers(self) -> dict[str, Any]:
        """The cleaned answers by question code, unanswered questions left out."""
        answers: dict[str, Any] = {}
        for question in self.questions:
            value = self.cleaned_data.get(self.field_name(question))
            if not value:
                continue
            if question.kind == SurveyQuestion.Kind.SCALE:
                answers[question.code] = int(value)
            elif question.kind == SurveyQuestion.Kind.YES_NO:
                answers[question.code] = value == "yes"
            else:
                answers[question.code] = value
        return answers


class PaperAnswerForm(SurveyAnswerForm):
    """A paper questionnaire typed in: the day it was answered, then its answers."""

    answered_on = forms.DateField(
        label=_("Répondu le"), widget=DateInput, help_text=_("Le jour seulement, sans l'heure.")
    )

    def __init__(self, *args: Any, questions: list[SurveyQuestion], **kwargs: Any) -> None:
        super().__init__(*args, questions=questions, **kwargs)
        # The day first, then the questions in their order.
        self.order_fields(["answered_on", *(self.field_name(question) for question in questions)])


def question_list(survey: Survey) -> list[SurveyQuestion]:
    return list(survey.questions.order_by("position", "pk"))


# --- Defining a survey (evaluators) -------------------------------------------------------


class SurveyForm(FlowForm):
    """A survey's own fields; its questions come in ``QuestionFormSet``."""

    territory = forms.ModelChoiceField(label=_("Territoire"), queryset=Territory.objects.none())
    kind = forms.ChoiceField(label=_("Type"), choices=Survey.Kind.choices, widget=forms.RadioSelect)
    title = forms.CharField(label=_("Titre"), max_length=200)
    introduction = forms.CharField(
        label=_("Introduction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Affichée en tête du questionnaire en ligne."),
    )
    is_open = forms.BooleanField(label=_("Ouvert aux réponses"), required=False, initial=True)

    def __init__(self, *args: Any, territories: QuerySet[Territory], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = territories  # type: ignore[attr-defined]


class QuestionForm(forms.Form):
    """One closed question; a blank one is left out."""

    text = forms.CharField(label=_("Question"), max_length=300)
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Nom court, sans espace ni accent (ex. accueil), repris dans les indicateurs."),
    )
    kind = forms.ChoiceField(label=_("Type de réponse"), choices=SurveyQuestion.Kind.choices)
    choices = forms.CharField(
        label=_("Choix proposés"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Pour une question à choix seulement : un choix par ligne, au moins deux."),
    )

    def clean_choices(self) -> list[str]:
        lines = (line.strip() for line in self.cleaned_data.get("choices", "").splitlines())
        return [line for line in lines if line]


QuestionFormSet = forms.formset_factory(
    QuestionForm, extra=2, can_delete=True, max_num=MAX_QUESTIONS, validate_max=True
)


def question_initial(survey: Survey) -> list[dict[str, Any]]:
    """The survey's questions as the formset shows them (choices one per line)."""
    return [
        {
            "text": question.text,
            "code": question.code,
            "kind": question.kind,
            "choices": "\n".join(question.choices or []),
        }
        for question in question_list(survey)
    ]


def questions_of(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The questions kept, in their order on the page (blank and deleted ones left out)."""
    kept = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        kept.append({name: data[name] for name in ("text", "code", "kind", "choices")})
    return kept
