from django.apps import AppConfig


class ReferentialConfig(AppConfig):
    name = "harmonie.referential"
    label = "referential"
