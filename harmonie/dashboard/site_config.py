"""The DSFR's site configuration (mourning, notice banner) for every page, from the cache.

django-dsfr's own context processor asks the database for it twice on every page
rendered (no configuration in the language, then any). It is read here once, kept in
the cache, and forgotten whenever a configuration is saved or deleted (receivers below,
connected by the app's `ready`); the timeout bounds it in a process that missed a signal.
"""

from typing import Any

import django
from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import get_language
from dsfr.models import DsfrConfig

# A pickled model instance belongs to its Django version: an upgrade reads it afresh.
_KEY = f"dsfr-site-config:{django.get_version()}"
_TIMEOUT = 300


def site_config(request: HttpRequest) -> dict[str, Any]:
    """As `dsfr.context_processors.site_config`: the configuration of the language, else
    the first one, else None."""
    key = f"{_KEY}:{get_language()}"
    stored = cache.get(key)
    if stored is None:
        config = (
            DsfrConfig.objects.filter(language=get_language()).first() or DsfrConfig.objects.first()
        )
        stored = (config,)
        cache.set(key, stored, timeout=_TIMEOUT)
    return {"SITE_CONFIG": stored[0]}


@receiver(post_save, sender=DsfrConfig, dispatch_uid="harmonie-dsfr-config-saved")
@receiver(post_delete, sender=DsfrConfig, dispatch_uid="harmonie-dsfr-config-deleted")
def site_config_forget(**_kwargs: Any) -> None:
    cache.delete_many([f"{_KEY}:{code}" for code, _name in settings.LANGUAGES])
