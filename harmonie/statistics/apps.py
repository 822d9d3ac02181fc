from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "harmonie.statistics"
    label = "statistics"
    verbose_name = "Statistiques"
