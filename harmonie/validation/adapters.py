"""One adapter per remote system (API.md §3): HTTP with httpx, idempotency keys, time-outs,
a few quick retries with back-off, and the remote system's answer for every record.

An adapter raises `TransientDeliveryError` when trying again later may work (system down,
time-out, 5xx, an answer it cannot read) and `PermanentDeliveryError` when the system
refused the message as a whole (4xx). Resending the same key is always safe: the remote
system answers a key it has already applied without applying it again.
"""

import functools
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from django.conf import settings

from harmonie.validation.conf import ValidationConfig, validation_config
from harmonie.validation.models import System

logger = logging.getLogger(__name__)

OUTCOMES = {"written", "kept", "refused"}
TRANSIENT_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504}


class DeliveryError(Exception):
    """A message was not acknowledged; `message` is French, for the delivery report."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientDeliveryError(DeliveryError):
    pass


class PermanentDeliveryError(DeliveryError):
    pass


@dataclass(frozen=True)
class RecordOutcome:
    ref: str
    outcome: str
    reason: str | None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once per process: each new client built
    its own (loading the CA bundle), 25 ms a message, even over plain HTTP."""
    return httpx.create_ssl_context()


class RemoteSystemAdapter:
    system: str = ""
    path: str = ""
    ref_field: str = ""
    label: str = ""

    def __init__(
        self,
        *,
        base_url: str,
        config: ValidationConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.config = config
        self.transport = transport
        self.sleep = sleep

    def send(self, *, key: str, payload: dict) -> list[RecordOutcome]:
        """Deliver one message; the outcome of every record, in the order sent."""
        timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
        error: DeliveryError | None = None
        with httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=self.transport, verify=_tls_context()
        ) as client:
            for attempt in range(1, self.config.adapter_attempts + 1):
                try:
                    return self._send_once(client, key=key, payload=payload)
                except TransientDeliveryError as transient:
                    error = transient
                    logger.warning(
                        "%s: message %s, essai %d : %s", self.system, key, attempt, transient
                    )
                    if attempt < self.config.adapter_attempts:
                        self.sleep(self.config.adapter_backoff * 2 ** (attempt - 1))
        assert error is not None
        raise error

    def _send_once(self, client: httpx.Client, *, key: str, payload: dict) -> list[RecordOutcome]:
        try:
            response = client.post(self.path, json=payload, headers={"Idempotency-Key": key})
        except httpx.TimeoutException as timeout:
            raise TransientDeliveryError(
                f"{self.label} n'a pas répondu à temps ({type(timeout).__name__})."
            ) from timeout
        except httpx.TransportError as down:
            raise TransientDeliveryError(
                f"{self.label} est injoignable ({type(down).__name__})."
            ) from down
        if response.status_code in TRANSIENT_STATUSES:
            raise TransientDeliveryError(
                f"{self.label} a répondu {response.status_code} ; nouvel essai prévu."
            )
        if response.status_code != 200:
            raise PermanentDeliveryError(
                f"{self.label} a refusé le message ({response.status_code}) : "
                f"{_error_text(response)}"
            )
        return self._outcomes(response, payload["records"])

    def _outcomes(self, response: httpx.Response, records: list[dict]) -> list[RecordOutcome]:
        """Check the answer names every record sent, in order, with a known outcome."""
        unreadable = TransientDeliveryError(
            f"{self.label} a envoyé une réponse illisible ; nouvel essai prévu."
        )
        try:
            results = response.json()["results"]
        except (ValueError, KeyError, TypeError):
            raise unreadable from None
        if not isinstance(results, list) or len(results) != len(records):
            raise unreadable
        outcomes = []
        for record, result in zip(records, results, strict=True):
            if (
                not isinstance(result, dict)
                or result.get("ref") != record[self.ref_field]
                or result.get("outcome") not in OUTCOMES
            ):
                raise unreadable
            reason = result.get("reason")
            outcomes.append(
                RecordOutcome(
                    ref=result["ref"],
                    outcome=result["outcome"],
                    reason=str(reason)[:64] if reason else None,
                )
            )
        return outcomes


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return response.text[:300] or "sans détail"


class ResultsSystemAdapter(RemoteSystemAdapter):
    """Cyclades: candidates' marks (R-VAL-4 is applied on its side)."""

    system = System.RESULTS
    path = "/marks"
    ref_field = "candidate"
    label = "Cyclades"

    def send_marks(self, *, key: str, payload: dict) -> list[RecordOutcome]:
        return self.send(key=key, payload=payload)


class PayrollSystemAdapter(RemoteSystemAdapter):
    """Imag'In: graders' work done (R-VAL-5 is applied on its side)."""

    system = System.PAYROLL
    path = "/work-done"
    ref_field = "grader"
    label = "Imag'In"

    def send_work_done(self, *, key: str, payload: dict) -> list[RecordOutcome]:
        return self.send(key=key, payload=payload)


def adapter_for(system: str) -> RemoteSystemAdapter:
    config = validation_config()
    if system == System.RESULTS:
        return ResultsSystemAdapter(base_url=settings.RESULTS_SYSTEM_URL, config=config)
    if system == System.PAYROLL:
        return PayrollSystemAdapter(base_url=settings.PAYROLL_SYSTEM_URL, config=config)
    raise ValueError(f"unknown system {system!r}")
