from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "harmonie.accounts"
    label = "accounts"
