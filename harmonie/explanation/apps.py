from django.apps import AppConfig


class ExplanationConfig(AppConfig):
    name = "harmonie.explanation"
    label = "explanation"
    verbose_name = "Explication des notes"
