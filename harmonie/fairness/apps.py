from django.apps import AppConfig


class FairnessConfig(AppConfig):
    name = "harmonie.fairness"
    label = "fairness"
    verbose_name = "Équité : effets correcteurs et procès-verbal"
