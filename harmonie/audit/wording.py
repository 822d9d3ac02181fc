"""The journal in French (issue 13, item 7): a label for every action `audit_log` writes
(grep `action=` across harmonie/), the target in words, and the before/after states as
« libellé : valeur » lines instead of raw JSON. Counts only: a state never holds a
candidate (R-UNIT-2)."""

from decimal import Decimal
from typing import Any

from django.utils.formats import number_format

ACTION_LABELS: dict[str, str] = {
    "script.graded": "Correction enregistrée",
    "script.marking_updated": "Copie harmonisée à l'unité",
    "script.import_replaced": "Correction remplacée par un import",
    "batch.locked": "Lot verrouillé",
    "batch.unlocked": "Lot déverrouillé",
    "harmonisation.executed": "Harmonisation exécutée",
    "harmonisation.cancelled": "Harmonisation annulée",
    "harmonisation.conformity": "Mise en conformité",
    "validation.executed": "Validation envoyée",
    "validation.retried": "Envoi relancé",
    "session.imported": "Session importée",
    "auth.oidc_login": "Connexion par le fournisseur d'identité",
    "auth.oidc_logout": "Déconnexion du fournisseur d'identité",
    "auth.oidc_refused": "Connexion refusée",
    "auth.oidc_session_expired": "Session expirée",
}

TARGET_LABELS: dict[str, str] = {
    "script": "Copie",
    "batch": "Lot",
    "harmonisation": "Harmonisation n°",
    "validation": "Validation n°",
    "session": "Session",
    "exam": "Épreuve",
    "user": "Compte",
    "identity": "Identité",
}

FIELD_LABELS: dict[str, str] = {
    "marks": "Notes",
    "special_mark": "Note spéciale",
    "initial_mark": "Note de correction",
    "final_mark": "Note finale",
    "annotations": "Annotations",
    "version": "Version",
    "locked": "Verrouillé",
    "scripts": "Copies",
    "mode": "Mode",
    "work_done": "Services faits",
    "reasons": "Motifs",
    "messages": "Messages relancés",
    "file": "Fichier",
    "created": "Créés",
    "updated": "Mis à jour",
    "kept_edited": "Modifiés dans Harmonie, conservés",
    "replaced": "Remplacés",
    "marks_version": "Version des notes de l'épreuve",
    "academy_marks_version": "Version des notes de l'académie",
    "name": "Nom",
    "reason": "Motif",
    "cancels": "Annule l'harmonisation n°",
    "scenarios": "Scénarios",
    "counts": "Copies par scénario",
    "not_conforming": "Copies non conformes",
    "claim": "Attribut d'identité",
    "provider": "Fournisseur",
    "identity": "Identité déclarée",
    "detail": "Détail",
    "code": "Code",
    "text": "Texte",
}

_LIST_MAX = 6


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def target_text(*, target_type: str, target_id: str) -> str:
    label = TARGET_LABELS.get(target_type, target_type)
    return f"{label}{'' if label.endswith('°') else ' '}{target_id}".strip()


def _value_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | Decimal):
        return number_format(value, use_l10n=True, force_grouping=True)
    if isinstance(value, dict):
        parts = [f"{key} : {_value_text(item)}" for key, item in value.items()]
        return " · ".join(parts) if parts else "—"
    if isinstance(value, list):
        if not value:
            return "aucun"
        if all(isinstance(item, str | int | float) for item in value) and len(value) <= _LIST_MAX:
            return ", ".join(_value_text(item) for item in value)
        return f"{number_format(len(value), force_grouping=True)} élément{'s' if len(value) > 1 else ''}"
    return str(value)


def state_lines(state: Any) -> list[tuple[str, str]]:
    """A before/after state as (label, text) pairs, in the order it was written."""
    if state is None:
        return []
    if not isinstance(state, dict):
        return [("", _value_text(state))]
    return [(FIELD_LABELS.get(key, key), _value_text(value)) for key, value in state.items()]
