"""Delivery and archive settings: `settings.VALIDATION` overrides, else the environment.

Defaults suit the stand-ins and production alike; tests and the end-to-end run shorten
the time-outs and delays through the environment (HARMONIE_VALIDATION_*).
"""

import os
from dataclasses import dataclass, fields

from django.conf import settings


@dataclass(frozen=True)
class ValidationConfig:
    chunk_size: int = 5000  # records per message
    timeout: float = 30.0  # seconds to wait for one answer
    connect_timeout: float = 5.0
    adapter_attempts: int = 3  # tries inside one delivery attempt (short back-off)
    adapter_backoff: float = 0.5  # seconds, doubled at each try
    max_attempts: int = 8  # delivery attempts before a message is failed
    retry_backoff: float = 10.0  # seconds before the 2nd attempt, doubled after
    retry_backoff_max: float = 600.0
    supervise_every: float = 30.0  # seconds between supervisor rounds
    zip_stream_max_scripts: int = 100  # above this a school's zip is built in the background
    zip_part_scripts: int = 100  # scripts per part of a background zip (one task each)
    zip_lease_seconds: float = 60.0  # a part's claim, renewed while it renders

    @property
    def lease_seconds(self) -> float:
        """Longest one delivery attempt can take, plus a margin: then its sender is dead."""
        per_try = self.connect_timeout + self.timeout
        backoff = sum(self.adapter_backoff * 2**n for n in range(self.adapter_attempts))
        return per_try * self.adapter_attempts + backoff + 5


def validation_config() -> ValidationConfig:
    overrides = getattr(settings, "VALIDATION", {})
    values = {}
    for field in fields(ValidationConfig):
        if field.name in overrides:
            values[field.name] = overrides[field.name]
            continue
        raw = os.environ.get(f"HARMONIE_VALIDATION_{field.name.upper()}")
        if raw:
            values[field.name] = type(field.default)(raw)
    return ValidationConfig(**values)
