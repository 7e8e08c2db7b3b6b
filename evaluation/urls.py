from django.urls import path

from . import journal_views, survey_views, views

urlpatterns = [
    # Dashboards and reports (evaluation.views).
    path(
        "territoires/<int:pk>/tableau-de-bord/",
        views.TerritoryDashboardView.as_view(),
        name="territory-dashboard",
    ),
    path("evaluation/comparaison/", views.TerritoryComparisonView.as_view(), name="territory-comparison"),
    path("territoires/<int:pk>/rapports/", views.TerritoryReportsView.as_view(), name="territory-reports"),
    path("rapports/", views.ReportListView.as_view(), name="report-list"),
    path("rapports/<int:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("rapports/<int:pk>/relancer/", views.ReportRetryView.as_view(), name="report-retry"),
    path("rapports/<int:pk>/pdf/", views.ReportDownloadView.as_view(), name="report-download"),
    path("rapports/<int:pk>/export/", views.ReportExportView.as_view(), name="report-export"),
    # Observation journal (evaluation.journal_views).
    path("journal/", journal_views.JournalListView.as_view(), name="journal-list"),
    path("journal/nouveau/", journal_views.JournalCreateView.as_view(), name="journal-create"),
    # Surveys (evaluation.survey_views); the answer page is public, reached by its token.
    path("questionnaires/", survey_views.SurveyListView.as_view(), name="survey-list"),
    path("questionnaires/nouveau/", survey_views.SurveyEditView.as_view(), name="survey-create"),
    path("questionnaires/<int:pk>/modifier/", survey_views.SurveyEditView.as_view(), name="survey-edit"),
    path("questionnaires/<int:pk>/ouvrir/", survey_views.SurveyOpenView.as_view(), name="survey-open"),
    path(
        "questionnaires/<int:pk>/saisie/",
        survey_views.SurveyResponseCreateView.as_view(),
        name="survey-response-create",
    ),
    path("questionnaires/<int:pk>/clore/", survey_views.SurveyCloseView.as_view(), name="survey-close"),
    path("questionnaire/<str:token>/", survey_views.SurveyAnswerView.as_view(), name="survey-answer"),
]
