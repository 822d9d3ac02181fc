from django.apps import AppConfig


class MarkingConfig(AppConfig):
    name = "harmonie.marking"
    label = "marking"
