from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerritoriesConfig(AppConfig):
    name = "territories"
    verbose_name = _("Territoires")

    def ready(self) -> None:
        from . import tokens  # noqa: F401  (connects the revocation of tokens on account changes)
