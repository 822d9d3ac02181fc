"""The switch for local accounts (HARMONIE_LOCAL_LOGIN): on for the embedded mode, off
where staff sign in through the academy's identity provider."""

from django.conf import settings

from harmonie.errors import Forbidden


class LocalLoginDisabled(Forbidden):
    code = "local_login_disabled"


def local_login_require() -> None:
    """Refuse a username/password sign-in when local accounts are switched off."""
    if not settings.LOCAL_LOGIN:
        raise LocalLoginDisabled(
            "La connexion par identifiant et mot de passe est désactivée : connectez-vous "
            f"avec {settings.OIDC_PROVIDER_NAME}, puis créez un jeton d'API depuis la page "
            "« Jetons d'API » de votre compte."
        )
