from django.apps import AppConfig


class HarmonisationConfig(AppConfig):
    name = "harmonie.harmonisation"
    label = "harmonisation"
