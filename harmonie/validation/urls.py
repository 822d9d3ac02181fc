from django.urls import path

from harmonie.validation import views

app_name = "validation"

urlpatterns = [
    path("etablissement/", views.school_scripts, name="school_scripts"),
    path("etablissement/<str:exam_code>/", views.school_exam_page, name="school_exam"),
    path("etablissement/<str:exam_code>/preparer/", views.school_prepare, name="school_prepare"),
    path("etablissement/<str:exam_code>/copies.zip", views.school_zip, name="school_zip"),
    path("transmissions/<int:validation_id>/", views.report, name="report"),
    path("transmissions/<int:validation_id>/relancer/", views.retry, name="retry"),
    path("lots/<str:code>/<str:action>/", views.batch_toggle, name="batch_toggle"),
    path("<str:exam_code>/", views.preview, name="preview"),
    path("<str:exam_code>/valider/", views.execute, name="execute"),
    path("<str:exam_code>/lots/", views.batches, name="batches"),
]
