from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "harmonie.dashboard"
    label = "dashboard"
