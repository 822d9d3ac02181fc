from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.api import api
from harmonie.accounts.admin_login import ThrottledAdminLoginForm

urlpatterns = [
    path("", include("harmonie.dashboard.urls")),
    path("compte/", include("harmonie.accounts.urls")),
    path("oidc/", include("harmonie.accounts.oidc_urls")),
    path("journal/", include("harmonie.audit.urls")),
    path("copies/", include("harmonie.marking.urls")),
    path("copies/", include("harmonie.explanation.urls")),
    path("statistiques/", include("harmonie.statistics.urls")),
    path("harmonisation/", include("harmonie.harmonisation.urls")),
    path("validation/", include("harmonie.validation.urls")),
    path("equite/", include("harmonie.fairness.urls")),
    path("api/v1/", api.urls),
]

# Django's admin: its login is throttled like the login page (R-ACC-1); production does
# not route it at all (no role is staff; docs/decisions.md, "Hardening").
admin.site.login_form = ThrottledAdminLoginForm
if not settings.PRODUCTION:
    urlpatterns.append(path("admin/", admin.site.urls))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# The error pages in French on the DSFR layout (harmonie/error_pages.py).
handler400 = "harmonie.error_pages.bad_request"
handler403 = "harmonie.error_pages.permission_denied"
handler404 = "harmonie.error_pages.page_not_found"
handler500 = "harmonie.error_pages.server_error"
