from django.urls import path

from harmonie.statistics import views

app_name = "statistics"

urlpatterns = [
    path("<str:exam>/", views.exam_statistics_page, name="exam"),
    path(
        "<str:exam>/export/<slug:table>.<slug:fmt>",
        views.exam_statistics_export,
        name="export",
    ),
]
