"""Browser pages of the associations and their partnerships; querysets come from the tenant rule."""

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView
from django.views.generic.detail import SingleObjectMixin

from meals.forms import FlowForm, add_service_errors
from territories.mixins import ScopedQuerysetMixin
from territories.views import PAGE_SIZE, PageMixin, TerritoryFilterMixin

from .conventions.selectors import current_version, missing_parties
from .conventions.services import signable_parties

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from .models import Association, ConventionVersion, DistributionSite, Partnership, Party, Weekday


class AssociationListView(PageMixin, TerritoryFilterMixin, ListView):
    model = Association
    paginate_by = PAGE_SIZE
    nav_section = "associations"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().scope_queryset(queryset).select_related("territory")


class AssociationDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    """An association, its distribution sites and its partnerships."""

    model = Association
    nav_section = "associations"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        day_labels = dict(Weekday.choices)
        sites = list(DistributionSite.objects.for_user(user).filter(association=self.object))
        context["sites"] = [
            (site, [day_labels.get(day, day) for day in site.opening_days or []]) for site in sites
        ]
        context["partnerships"] = (
            Partnership.objects.for_user(user).filter(association=self.object).select_related("kitchen")
        )
        return context


class PartnershipListView(PageMixin, TerritoryFilterMixin, ListView):
    model = Partnership
    paginate_by = PAGE_SIZE
    nav_section = "partnerships"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().scope_queryset(queryset).select_related("territory", "kitchen", "association")


class SignForm(FlowForm):
    """A party marks its signature of the current version (the same rule as the API's)."""

    party = forms.ChoiceField(label=gettext_lazy("Je signe pour"), required=False)
    signer_name = forms.CharField(label=gettext_lazy("Nom du signataire"), max_length=200)
    signer_title = forms.CharField(label=gettext_lazy("Qualité (facultatif)"), max_length=200, required=False)

    def __init__(self, *args: Any, parties: list[Party], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        party = cast("forms.ChoiceField", self.fields["party"])
        party.choices = [(each.value, each.label) for each in parties]
        if len(parties) < 2:
            party.widget = forms.HiddenInput()


def partnership_for_signing(user: Any, pk: Any) -> Partnership:
    """The partnership, if the user sees it and its convention versions (a funder sees the
    partnership but not its convention: 404, like another territory's)."""
    try:
        pk = int(pk)  # the API passes the path's text as it came
    except (TypeError, ValueError):
        raise Http404 from None
    partnership = get_object_or_404(Partnership.objects.for_user(user), pk=pk)
    seen = ConventionVersion.objects.for_user(user).filter(partnership=partnership)
    if partnership.versions.exists() and not seen.exists():
        raise Http404
    return partnership


def signing_context(user: Any, partnership: Partnership, form: SignForm | None = None) -> dict[str, Any]:
    """The current version, who signed it, who is missing, and the form for the parties the user
    represents that have not signed yet."""
    version = current_version(partnership)
    context: dict[str, Any] = {"version": version}
    if version is None:
        return context
    signatures = {signature.party: signature for signature in version.signatures.all()}
    context["signature_rows"] = [
        {"label": Party(party).label, "signature": signatures.get(party)} for party in version.parties
    ]
    context["all_signed"] = not missing_parties(version)
    waiting = [party for party in signable_parties(user, partnership) if party.value in version.parties]
    waiting = [party for party in waiting if party.value not in signatures]
    if form is not None:
        context["sign_form"] = form  # a refused signature, shown with its errors
    elif waiting:
        context["sign_form"] = SignForm(parties=waiting, initial={"party": waiting[0].value})
    return context


class PartnershipDetailView(PageMixin, ScopedQuerysetMixin, DetailView):
    model = Partnership
    nav_section = "partnerships"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("territory", "kitchen", "association")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if ConventionVersion.objects.for_user(self.request.user).filter(partnership=self.object).exists():
            context.update(signing_context(self.request.user, self.object, kwargs.get("sign_form")))
        context.update(round_schedule_context(self.request.user, self.object))
        return context


def round_schedule_context(user: Any, partnership: Partnership) -> dict[str, Any]:
    """The partnership's weekly pickup schedule, for those who see it, and whether the user may
    set it (``RoundSchedule.change_rule``: the page links to its form)."""
    from costing.views import may_change
    from meals.rounds.models import RoundSchedule

    schedule = (
        RoundSchedule.objects.all_territories().filter(partnership=partnership).select_related("site").first()
    )
    visible = schedule is not None and RoundSchedule.objects.for_user(user).filter(pk=schedule.pk).exists()
    writable = may_change(
        user, schedule or RoundSchedule(partnership=partnership, territory_id=partnership.territory_id)
    )
    return {"round_schedule": schedule if visible else None, "may_plan_round": writable}


class PartnershipSignView(LoginRequiredMixin, View):
    """POST only: the signature of the user's party, then back to the partnership's page; a
    refusal shows the page again with the form's errors."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from .conventions.services import partnership_sign

        user = cast("User", request.user)  # LoginRequiredMixin let only a logged-in user in
        partnership = partnership_for_signing(user, pk)
        parties = signable_parties(user, partnership)
        if not parties:
            raise PermissionDenied
        form = SignForm(request.POST, parties=parties)
        if form.is_valid():
            try:
                signature = partnership_sign(partnership=partnership, by=user, **form.cleaned_data)
            except ValidationError as error:
                errors = error.message_dict
                if form.fields["party"].widget.is_hidden and "party" in errors:
                    # One party to sign for: its refusal reads at the top of the form.
                    form.add_error(None, errors.pop("party"))
                if errors:
                    add_service_errors(form, ValidationError(errors))
            else:
                if missing_parties(signature.version):
                    messages.success(request, _("Votre signature est enregistrée."))
                else:
                    messages.success(
                        request,
                        _("Toutes les parties ont signé : le partenariat peut devenir actif."),
                    )
                return redirect("partnership-detail", pk=partnership.pk)
        view = PartnershipDetailView(request=request, kwargs={"pk": pk}, object=partnership)
        context = view.get_context_data(object=partnership, sign_form=form)
        return view.render_to_response(context)


class PartnershipConventionView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """Streams the signed convention to those who may see the partnership (not from public media)."""

    model = Partnership

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FileResponse:
        return convention_response(self.get_object())


def convention_response(partnership: Partnership) -> FileResponse:
    """The signed convention as a PDF download; 404 when there is none or its file is gone."""
    document = partnership.convention_document
    if not document:
        raise Http404
    try:
        handle = document.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    return FileResponse(
        handle,
        content_type="application/pdf",
        filename=f"convention-partenariat-{partnership.pk}.pdf",
    )


class ConventionVersionPdfView(ScopedQuerysetMixin, SingleObjectMixin, View):
    """A version of a convention as a PDF, drawn up from its frozen terms and its signatures."""

    model = ConventionVersion

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from .conventions.pdf import convention_render

        version = self.get_object()
        response = HttpResponse(convention_render(version), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="convention-{version.partnership_id}-v{version.number}.pdf"'
        )
        return response
