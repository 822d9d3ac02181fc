from django.urls import path

from harmonie.accounts import token_views, views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("jetons/", token_views.api_tokens_view, name="api_tokens"),
]
