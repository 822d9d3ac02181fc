from django.urls import path

from harmonie.fairness import views

app_name = "fairness"

urlpatterns = [
    path("<str:exam>/correcteurs/", views.graders_page, name="graders"),
    path("<str:exam>/proces-verbal.pdf", views.minutes_download, name="minutes"),
]
