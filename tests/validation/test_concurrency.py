"""Validating twice at the same instant, on PostgreSQL: one validation, one clear 409."""

import threading

import pytest
from django.db import connection

from harmonie.errors import Conflict
from harmonie.validation.models import DeliveryMessage, Validation
from harmonie.validation.services import validation_execute

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_validations_at_the_same_instant(world, no_delivery):
    """R-VAL-6: the exam row serialises them; the second finds the first still delivering."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL requis (verrous de lignes)")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            validation_execute(user=world["coordinator"], exam_code="FRA-ECRIT")
            outcomes.append("validated")
        except Conflict as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["validated", "validation_in_progress"]
    assert Validation.objects.count() == 1
    assert DeliveryMessage.objects.count() == 2
