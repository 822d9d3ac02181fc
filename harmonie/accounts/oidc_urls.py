"""/oidc/: the redirect URI to register with the provider is /oidc/callback/."""

from django.urls import path

from harmonie.accounts.oidc_views import OidcCallbackView, OidcLoginView

# Names mozilla-django-oidc reverses (OIDC_AUTHENTICATION_CALLBACK_URL's default).
urlpatterns = [
    path("authenticate/", OidcLoginView.as_view(), name="oidc_authentication_init"),
    path("callback/", OidcCallbackView.as_view(), name="oidc_authentication_callback"),
]
