from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "harmonie.validation"
    label = "validation"
