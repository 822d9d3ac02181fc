from django.urls import path

from harmonie.marking import views

app_name = "marking"

urlpatterns = [
    path("epreuve/<str:exam_code>/", views.script_list_page, name="script_list"),
    path("correction/", views.grader_batches_page, name="grader_batches"),
    path("correction/<str:exam_code>/", views.grader_batches_page, name="grader_batches"),
    path("lot/<str:code>/", views.grader_batch_page, name="grader_batch"),
    path("lot/<str:code>/verrouiller/", views.grader_batch_lock, name="grader_batch_lock"),
    path("<str:public_id>/", views.script_viewer, name="script_viewer"),
    path("<str:public_id>/pages/<int:number>.png", views.page_png, name="page_image"),
]
