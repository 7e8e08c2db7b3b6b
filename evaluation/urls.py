from django.urls import path

from . import journal_views, survey_views

urlpatterns = [
    # Observation journal (evaluation.journal_views).
    path("journal/", journal_views.JournalListView.as_view(), name="journal-list"),
    path("journal/nouveau/", journal_views.JournalCreateView.as_view(), name="journal-create"),
    # Surveys (evaluation.survey_views); the answer page is public, reached by its token.
    path("questionnaires/", survey_views.SurveyListView.as_view(), name="survey-list"),
    path(
        "questionnaires/<int:pk>/saisie/",
        survey_views.SurveyResponseCreateView.as_view(),
        name="survey-response-create",
    ),
    path("questionnaire/<str:token>/", survey_views.SurveyAnswerView.as_view(), name="survey-answer"),
]
