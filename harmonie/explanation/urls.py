from django.urls import path

from harmonie.explanation import views

app_name = "explanation"

# Mounted under /copies/ beside harmonie.marking.urls (no pattern in common).
urlpatterns = [
    path("<str:public_id>/explication/", views.script_explanation_block, name="script"),
    path("epreuve/<str:exam_code>/export.<slug:fmt>", views.script_list_export, name="list_export"),
]
