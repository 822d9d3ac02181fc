"""Validation of a session file (API.md §1), before anything is written.

`session_file_validate` reads the parsed JSON and either returns a `ValidSession`
(normalised records, marks as Decimal) or raises `SessionFileError` naming the first
bad path in French, e.g. ``exams[2].scheme[0].max : 5 ≠ somme des sous-parties 4``.
References may point to objects of the file or to objects already in the database
(`KnownKeys`). This module checks the referential part; the marking part (`batches`,
`scripts`) is checked next by `harmonie.marking.session_file` with the helpers below
(`fail`, `key_field`, `mark_check`...), so both speak the same French.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, NoReturn, overload

from harmonie.accounts.permissions import ROLE_VALUES, role_is_school
from harmonie.referential.scheme import GLOBAL_MARK

FORMAT = "harmonie-session/1"
ROLES = ROLE_VALUES
KINDS = {"marked", "harmonisation_only"}
# R-FAIR-3: second-chance oral, pass, honours (marks out of 20).
DEFAULT_THRESHOLDS = (8, 10, 12, 14, 16)
ATTENDANCES = {"present", "absent", None}
TOP_LEVEL_KEYS = {
    "format",
    "session",
    "academies",
    "departments",
    "schools",
    "qualifications",
    "juries",
    "users",
    "exams",
    "candidates",
    "registrations",
    "batches",
    "scripts",
}
# Natural keys appear in URLs, filters and exports: ASCII letters and digits, then also
# « . », « _ », « - » (usernames also « @ » and « + », as Django's). No « / », no « .. »,
# no markup, no invisible or right-to-left characters (docs/decisions.md, README « Data »).
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")
KEY_RULE = "lettres et chiffres ASCII, puis « . », « _ » ou « - », sans « .. »"
# The format nests at most: root → scripts → script → annotations → annotation → value,
# or exams → exam → scheme → part → children → ... (a scheme of 4 levels): 14 is ample.
MAX_DEPTH = 14
STEP_MIN = Decimal("0.01")


class SessionFileError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path} : {message}")
        self.path = path
        self.message = message


@dataclass
class ExamRules:
    kind: str
    max_mark: Decimal
    step: Decimal
    special_marks: set[str]
    leaves: dict[str, Decimal]
    subjects: set[str]
    # R-FAIR-1 and R-FAIR-3 (optional keys of an exam, API.md §1 additions).
    tolerance: Decimal = Decimal(2)
    thresholds: tuple[Decimal, ...] = tuple(Decimal(t) for t in DEFAULT_THRESHOLDS)


@dataclass
class KnownKeys:
    """Natural keys already in the database, with what validation needs of them."""

    academies: set[str] = field(default_factory=set)
    department_academy: dict[str, str] = field(default_factory=dict)
    school_department: dict[str, str] = field(default_factory=dict)
    qualifications: set[str] = field(default_factory=set)
    jury_academy: dict[str, str] = field(default_factory=dict)
    exams: dict[str, ExamRules] = field(default_factory=dict)
    user_role: dict[str, str] = field(default_factory=dict)
    candidate_school: dict[str, str] = field(default_factory=dict)
    attendance: dict[tuple[str, str], str | None] = field(default_factory=dict)


@dataclass
class ValidSession:
    """The referential part checked, with the keys of the file and of the database
    merged: what the marking part (`batches`, `scripts`) is checked against."""

    data: dict[str, Any]
    base_dir: Path
    exams: dict[str, ExamRules]
    user_role: dict[str, str]
    candidate_school: dict[str, str]
    attendance: dict[tuple[str, str], str | None]


def fail(path: str, message: str) -> NoReturn:
    raise SessionFileError(path, message)


def as_object(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        fail(path, "un objet JSON est attendu")
    return value


def list_field(parent: dict, key: str, path: str, *, required: bool = True) -> list:
    if key not in parent:
        if required:
            fail(f"{path}{key}", "champ obligatoire manquant")
        return []
    value = parent[key]
    if not isinstance(value, list):
        fail(f"{path}{key}", "une liste est attendue")
    return value


@overload
def text_field(
    record: dict, key: str, path: str, *, max_length: int = ..., optional: Literal[False] = ...
) -> str: ...
@overload
def text_field(
    record: dict, key: str, path: str, *, max_length: int = ..., optional: bool
) -> str | None: ...
def text_field(
    record: dict, key: str, path: str, *, max_length: int = 200, optional: bool = False
) -> str | None:
    value = record.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        fail(f"{path}.{key}", "texte non vide attendu")
    if len(value) > max_length:
        fail(f"{path}.{key}", f"texte trop long (plus de {max_length} caractères)")
    return value


def key_check(value: str, path: str, *, username: bool = False) -> str:
    pattern = USERNAME_PATTERN if username else KEY_PATTERN
    if not pattern.fullmatch(value) or ".." in value:
        fail(path, f"identifiant {value!a} invalide ({KEY_RULE})")
    return value


@overload
def key_field(
    record: dict, key: str, path: str, *, max_length: int, optional: Literal[False] = ...
) -> str: ...
@overload
def key_field(
    record: dict, key: str, path: str, *, max_length: int, optional: bool
) -> str | None: ...
def key_field(
    record: dict, key: str, path: str, *, max_length: int, optional: bool = False
) -> str | None:
    """A natural key (code, id, username) that URLs, filters and exports can carry."""
    value = text_field(record, key, path, max_length=max_length, optional=optional)
    if value is None:
        return None
    return key_check(value, f"{path}.{key}", username=key == "username")


def _text_safe(value: str, path: str) -> None:
    if "\x00" in value:
        fail(path.replace("\x00", "\\0"), "caractère nul (U+0000) interdit")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        fail(
            path.encode("utf-8", "replace").decode(),
            "caractère Unicode invalide (demi-codet isolé)",
        )


def tree_check(data: Any) -> None:
    """Before anything else: no NUL, no lone surrogate, no nesting deeper than the format
    needs; the first bad path is named (iterative: no recursion on hostile files)."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            _text_safe(item, path or "fichier")
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                fail(path or "fichier", f"imbrication trop profonde (au plus {MAX_DEPTH} niveaux)")
            if isinstance(item, dict):
                for key, child in item.items():
                    _text_safe(key, path or "fichier")
                    child_path = f"{path}.{key}" if path else str(key)
                    stack.append((child, depth + 1, child_path))
            else:
                for index, child in enumerate(item):
                    stack.append((child, depth + 1, f"{path}[{index}]"))


def bool_field(record: dict, key: str, path: str, *, default: bool) -> bool:
    value = record.get(key, default)
    if not isinstance(value, bool):
        fail(f"{path}.{key}", "vrai ou faux (true/false) attendu")
    return value


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(path, f"nombre attendu, reçu « {value} »")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        fail(path, f"nombre invalide « {value} »")
    if not number.is_finite():
        fail(path, f"nombre invalide « {value} »")
    # Beyond this range a step check (max % step) overflows the decimal context.
    if number and not -6 <= number.adjusted() <= 12:
        fail(path, f"nombre hors limites « {value} »")
    return number


def value_text(number: Decimal) -> str:
    return format(number, "f") if number.adjusted() > -8 else str(number)


def _fmt(number: Decimal) -> str:
    return format(number.normalize(), "f").replace(".", ",")


def mark_check(value: Any, *, path: str, maximum: Decimal, step: Decimal) -> Decimal:
    """A mark within [0, maximum] and on the step (R-MARK-1)."""
    mark = _decimal(value, path)
    if mark < 0:
        fail(path, f"{_fmt(mark)} < 0")
    if mark > maximum:
        fail(path, f"{_fmt(mark)} > max {_fmt(maximum)}")
    if mark % step != 0:
        fail(path, f"{_fmt(mark)} n'est pas un multiple du pas {_fmt(step)}")
    return mark


def unique_check(seen: set, key: Any, path: str, what: str) -> None:
    if key in seen:
        fail(path, f"{what} « {key} » en double")
    seen.add(key)


def _scheme_leaves(
    nodes: list, path: str, seen: set[str], step: Decimal
) -> tuple[dict[str, Decimal], Decimal]:
    leaves: dict[str, Decimal] = {}
    total = Decimal(0)
    for index, node in enumerate(nodes):
        node_path = f"{path}[{index}]"
        as_object(node, node_path)
        code = key_field(node, "code", node_path, max_length=32)
        unique_check(seen, code, f"{node_path}.code", "partie")
        if code == GLOBAL_MARK:
            fail(f"{node_path}.code", "« global » est réservé à la note globale")
        maximum = _decimal(node.get("max"), f"{node_path}.max")
        if maximum <= 0 or maximum % step != 0:
            fail(f"{node_path}.max", f"maximum positif multiple du pas {_fmt(step)} attendu")
        text_field(node, "label", node_path, optional=True)
        children = list_field(node, "children", f"{node_path}.", required=False)
        if children:
            child_leaves, child_total = _scheme_leaves(
                children, f"{node_path}.children", seen, step
            )
            if child_total != maximum:
                fail(
                    f"{node_path}.max",
                    f"{_fmt(maximum)} ≠ somme des sous-parties {_fmt(child_total)}",
                )
            leaves.update(child_leaves)
        else:
            leaves[code] = maximum
        total += maximum
    return leaves, total


def _validate_exam(record: dict, path: str) -> ExamRules:
    kind = record.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        fail(f"{path}.kind", f"type « {kind} » inconnu (marked ou harmonisation_only)")
    max_mark = _decimal(record.get("max_mark", 20), f"{path}.max_mark")
    step = _decimal(record.get("step", 0.5), f"{path}.step")
    if step <= 0 or step > max_mark:
        fail(f"{path}.step", f"pas {_fmt(step)} invalide")
    if step < STEP_MIN or step % STEP_MIN != 0:
        fail(f"{path}.step", f"pas « {value_text(step)} » invalide : au moins 0,01, en centièmes")
    if max_mark <= 0 or max_mark % step != 0:
        fail(f"{path}.max_mark", f"maximum {_fmt(max_mark)} invalide pour le pas {_fmt(step)}")
    specials = list_field(record, "special_marks", f"{path}.", required=False)
    for index, code in enumerate(specials):
        if not isinstance(code, str) or not code.isascii() or not code.isalnum() or len(code) > 8:
            fail(f"{path}.special_marks[{index}]", "code de note particulière invalide")
    scheme = list_field(record, "scheme", f"{path}.", required=False)
    leaves, total = _scheme_leaves(scheme, f"{path}.scheme", set(), step)
    if kind == "marked":
        if not leaves:
            fail(f"{path}.scheme", "une épreuve ponctuelle a besoin d'un barème")
        if total != max_mark:
            fail(
                f"{path}.scheme",
                f"somme des parties {_fmt(total)} ≠ note maximale {_fmt(max_mark)}",
            )
    elif leaves:
        fail(f"{path}.scheme", "une épreuve uniquement harmonisée n'a qu'une note globale")
    subjects = list_field(record, "subjects", f"{path}.", required=False)
    seen: set[str] = set()
    for index, subject in enumerate(subjects):
        if not isinstance(subject, str) or not subject or len(subject) > 32:
            fail(f"{path}.subjects[{index}]", "code de sujet attendu")
        key_check(subject, f"{path}.subjects[{index}]")
        unique_check(seen, subject, f"{path}.subjects[{index}]", "sujet")
    tolerance = _decimal(record.get("tolerance", 2), f"{path}.tolerance")
    if not 0 < tolerance <= max_mark:
        fail(f"{path}.tolerance", f"tolérance {_fmt(tolerance)} hors de ]0, {_fmt(max_mark)}]")
    raw_thresholds = record.get("thresholds")
    if raw_thresholds is None:
        # The defaults are marks out of 20: another maximum gets them in proportion.
        raw_thresholds = [float(t * max_mark / 20) for t in DEFAULT_THRESHOLDS]
    if not isinstance(raw_thresholds, list):
        fail(f"{path}.thresholds", "liste de notes attendue")
    thresholds: list[Decimal] = []
    for index, value in enumerate(raw_thresholds):
        threshold = _decimal(value, f"{path}.thresholds[{index}]")
        if not 0 < threshold <= max_mark or (thresholds and threshold <= thresholds[-1]):
            fail(
                f"{path}.thresholds[{index}]",
                f"seuil {_fmt(threshold)} : seuils croissants dans ]0, {_fmt(max_mark)}] attendus",
            )
        thresholds.append(threshold)
    return ExamRules(
        kind, max_mark, step, set(specials), leaves, seen, tolerance, tuple(thresholds)
    )


def _header_validate(root: dict) -> None:
    unknown = sorted(key for key in root if key not in TOP_LEVEL_KEYS)
    if unknown:
        fail(unknown[0], "clé inconnue du format (API.md §1)")
    if root.get("format") != FORMAT:
        fail("format", f"« {FORMAT} » attendu, reçu « {root.get('format')} »")
    session = as_object(root.get("session"), "session")
    key_field(session, "code", "session", max_length=32)
    text_field(session, "label", "session")


def _academies_validate(root: dict, known: KnownKeys) -> set[str]:
    academies = set(known.academies)
    seen: set = set()
    for index, record in enumerate(list_field(root, "academies", "")):
        path = f"academies[{index}]"
        code = key_field(as_object(record, path), "code", path, max_length=32)
        unique_check(seen, code, f"{path}.code", "académie")
        text_field(record, "label", path)
        academies.add(code)
    return academies


def _departments_validate(root: dict, known: KnownKeys, academies: set[str]) -> dict[str, str]:
    department_academy = dict(known.department_academy)
    seen: set = set()
    for index, record in enumerate(list_field(root, "departments", "")):
        path = f"departments[{index}]"
        code = key_field(as_object(record, path), "code", path, max_length=8)
        unique_check(seen, code, f"{path}.code", "département")
        text_field(record, "label", path)
        academy = text_field(record, "academy", path, max_length=32)
        if academy not in academies:
            fail(f"{path}.academy", f"académie « {academy} » inconnue")
        department_academy[code] = academy
    return department_academy


def _schools_validate(
    root: dict, known: KnownKeys, department_academy: dict[str, str]
) -> dict[str, str]:
    school_department = dict(known.school_department)
    seen: set = set()
    for index, record in enumerate(list_field(root, "schools", "")):
        path = f"schools[{index}]"
        uai = key_field(as_object(record, path), "uai", path, max_length=8)
        unique_check(seen, uai, f"{path}.uai", "établissement")
        text_field(record, "label", path)
        department = text_field(record, "department", path, max_length=8)
        if department not in department_academy:
            fail(f"{path}.department", f"département « {department} » inconnu")
        school_department[uai] = department
    return school_department


def _qualifications_validate(root: dict, known: KnownKeys) -> set[str]:
    qualifications = set(known.qualifications)
    seen: set = set()
    for index, record in enumerate(list_field(root, "qualifications", "")):
        path = f"qualifications[{index}]"
        code = key_field(as_object(record, path), "code", path, max_length=32)
        unique_check(seen, code, f"{path}.code", "qualification")
        text_field(record, "label", path)
        qualifications.add(code)
    return qualifications


def _juries_validate(root: dict, known: KnownKeys, academies: set[str]) -> dict[str, str]:
    jury_academy = dict(known.jury_academy)
    seen: set = set()
    for index, record in enumerate(list_field(root, "juries", "")):
        path = f"juries[{index}]"
        code = key_field(as_object(record, path), "code", path, max_length=32)
        unique_check(seen, code, f"{path}.code", "jury")
        academy = text_field(record, "academy", path, max_length=32)
        if academy not in academies:
            fail(f"{path}.academy", f"académie « {academy} » inconnue")
        jury_academy[code] = academy
    return jury_academy


def _exams_validate(root: dict, known: KnownKeys) -> dict[str, ExamRules]:
    exams = dict(known.exams)
    seen: set = set()
    for index, record in enumerate(list_field(root, "exams", "")):
        path = f"exams[{index}]"
        code = key_field(as_object(record, path), "code", path, max_length=32)
        unique_check(seen, code, f"{path}.code", "épreuve")
        text_field(record, "label", path)
        exams[code] = _validate_exam(record, path)
    return exams


def _user_validate(
    record: dict,
    path: str,
    *,
    academies: set[str],
    school_department: dict[str, str],
    exams: dict[str, ExamRules],
    seen_emails: set[str],
) -> str:
    """One user record; returns its role."""
    role = record.get("role")
    if not isinstance(role, str) or role not in ROLES:
        fail(f"{path}.role", f"rôle « {role} » inconnu")
    academy = text_field(record, "academy", path, max_length=32, optional=True)
    if academy is not None and academy not in academies:
        fail(f"{path}.academy", f"académie « {academy} » inconnue")
    if not role_is_school(role) and academy is None:
        fail(f"{path}.academy", "académie obligatoire pour ce rôle")
    school = text_field(record, "school", path, max_length=8, optional=True)
    if role_is_school(role) and school is None:
        fail(f"{path}.school", "établissement obligatoire pour un compte établissement")
    if school is not None and school not in school_department:
        fail(f"{path}.school", f"établissement « {school} » inconnu")
    for mission_index, mission in enumerate(
        list_field(record, "missions", f"{path}.", required=False)
    ):
        if not isinstance(mission, str) or mission not in exams:
            fail(f"{path}.missions[{mission_index}]", f"épreuve « {mission} » inconnue")
    for key in ("first_name", "last_name"):
        text_field(record, key, path, max_length=150, optional=True)
    # Optional: what the identity provider's e-mail claim is matched on (Sign-in).
    email = text_field(record, "email", path, max_length=254, optional=True)
    if email is not None:
        if "@" not in email or any(c.isspace() for c in email):
            fail(f"{path}.email", f"adresse électronique « {email} » invalide")
        unique_check(seen_emails, email.lower(), f"{path}.email", "adresse électronique")
    password = record.get("password")
    if password is not None and (not isinstance(password, str) or not password):
        fail(f"{path}.password", "mot de passe texte attendu")
    return role


def _users_validate(
    root: dict,
    known: KnownKeys,
    *,
    academies: set[str],
    school_department: dict[str, str],
    exams: dict[str, ExamRules],
) -> dict[str, str]:
    user_role = dict(known.user_role)
    seen: set = set()
    seen_emails: set[str] = set()
    for index, record in enumerate(list_field(root, "users", "", required=False)):
        path = f"users[{index}]"
        username = key_field(as_object(record, path), "username", path, max_length=150)
        unique_check(seen, username, f"{path}.username", "utilisateur")
        user_role[username] = _user_validate(
            record,
            path,
            academies=academies,
            school_department=school_department,
            exams=exams,
            seen_emails=seen_emails,
        )
    return user_role


def _candidates_validate(
    root: dict,
    known: KnownKeys,
    *,
    school_department: dict[str, str],
    qualifications: set[str],
    jury_academy: dict[str, str],
) -> dict[str, str]:
    candidate_school = dict(known.candidate_school)
    seen: set = set()
    for index, record in enumerate(list_field(root, "candidates", "")):
        path = f"candidates[{index}]"
        number = key_field(as_object(record, path), "number", path, max_length=32)
        unique_check(seen, number, f"{path}.number", "candidat")
        school = text_field(record, "school", path, max_length=8)
        if school not in school_department:
            fail(f"{path}.school", f"établissement « {school} » inconnu")
        key_field(record, "class_group", path, max_length=32, optional=True)
        qualification = text_field(record, "qualification", path, max_length=32)
        if qualification not in qualifications:
            fail(f"{path}.qualification", f"qualification « {qualification} » inconnue")
        jury = text_field(record, "jury", path, max_length=32)
        if jury not in jury_academy:
            fail(f"{path}.jury", f"jury « {jury} » inconnu")
        bool_field(record, "fraud", path, default=False)
        candidate_school[number] = school
    return candidate_school


def _registrations_validate(
    root: dict,
    known: KnownKeys,
    *,
    candidate_school: dict[str, str],
    exams: dict[str, ExamRules],
) -> dict[tuple[str, str], str | None]:
    attendance = dict(known.attendance)
    seen: set = set()
    for index, record in enumerate(list_field(root, "registrations", "")):
        path = f"registrations[{index}]"
        candidate = text_field(as_object(record, path), "candidate", path, max_length=32)
        if candidate not in candidate_school:
            fail(f"{path}.candidate", f"candidat « {candidate} » inconnu")
        exam = text_field(record, "exam", path, max_length=32)
        if exam not in exams:
            fail(f"{path}.exam", f"épreuve « {exam} » inconnue")
        unique_check(seen, (candidate, exam), path, "inscription")
        value = record.get("attendance")
        if not (value is None or isinstance(value, str)) or value not in ATTENDANCES:
            fail(f"{path}.attendance", f"émargement « {value} » inconnu (present, absent ou null)")
        attendance[(candidate, exam)] = value
    return attendance


def session_file_validate(*, data: Any, base_dir: Path, known: KnownKeys) -> ValidSession:
    """Check the referential part of the file (everything but `batches` and `scripts`,
    which `harmonie.marking.session_file` checks next); raise SessionFileError at the
    first bad path."""
    tree_check(data)
    root = as_object(data, "fichier")
    _header_validate(root)
    academies = _academies_validate(root, known)
    department_academy = _departments_validate(root, known, academies)
    school_department = _schools_validate(root, known, department_academy)
    qualifications = _qualifications_validate(root, known)
    jury_academy = _juries_validate(root, known, academies)
    exams = _exams_validate(root, known)
    user_role = _users_validate(
        root, known, academies=academies, school_department=school_department, exams=exams
    )
    candidate_school = _candidates_validate(
        root,
        known,
        school_department=school_department,
        qualifications=qualifications,
        jury_academy=jury_academy,
    )
    attendance = _registrations_validate(
        root, known, candidate_school=candidate_school, exams=exams
    )
    return ValidSession(
        data=root,
        base_dir=base_dir,
        exams=exams,
        user_role=user_role,
        candidate_school=candidate_school,
        attendance=attendance,
    )
