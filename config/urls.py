from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("", include("harmonie.dashboard.urls")),
    path("compte/", include("harmonie.accounts.urls")),
    path("journal/", include("harmonie.audit.urls")),
    path("copies/", include("harmonie.marking.urls")),
    path("statistiques/", include("harmonie.statistics.urls")),
    path("harmonisation/", include("harmonie.harmonisation.urls")),
    path("validation/", include("harmonie.validation.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
