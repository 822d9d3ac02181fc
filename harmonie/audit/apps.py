from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "harmonie.audit"
    label = "audit"
