"""Validation of a session file (API.md §1), before anything is written.

`session_file_validate` reads the parsed JSON and either returns a `ValidSession`
(normalised records, marks as Decimal) or raises `SessionFileError` naming the first
bad path in French, e.g. ``scripts[12].marks.Q3 : 21 > maximum 4``. References may
point to objects of the file or to objects already in the database (`KnownKeys`).
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any

from harmonie.errors import InvalidInput
from harmonie.marking.rules import annotations_validate

FORMAT = "harmonie-session/1"
ROLES = {"academic_coordinator", "harmonisation_member", "exam_officer", "grader", "school"}
KINDS = {"marked", "harmonisation_only"}
# R-FAIR-3: second-chance oral, pass, honours (marks out of 20).
DEFAULT_THRESHOLDS = (8, 10, 12, 14, 16)
ATTENDANCES = {"present", "absent", None}
GLOBAL_MARK = "global"
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
ANNOTATION_PAGES_MAX = 1000


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
    batch_exam: dict[str, str] = field(default_factory=dict)
    script_owner: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class ValidSession:
    data: dict[str, Any]
    base_dir: Path
    exams: dict[str, ExamRules]
    page_files: dict[str, Path]


def _fail(path: str, message: str) -> None:
    raise SessionFileError(path, message)


def _obj(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        _fail(path, "un objet JSON est attendu")
    return value


def _list(parent: dict, key: str, path: str, *, required: bool = True) -> list:
    if key not in parent:
        if required:
            _fail(f"{path}{key}", "champ obligatoire manquant")
        return []
    value = parent[key]
    if not isinstance(value, list):
        _fail(f"{path}{key}", "une liste est attendue")
    return value


def _text(record: dict, key: str, path: str, *, max_length: int = 200, optional: bool = False):
    value = record.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        _fail(f"{path}.{key}", "texte non vide attendu")
    if len(value) > max_length:
        _fail(f"{path}.{key}", f"texte trop long (plus de {max_length} caractères)")
    return value


def key_check(value: str, path: str, *, username: bool = False) -> str:
    pattern = USERNAME_PATTERN if username else KEY_PATTERN
    if not pattern.fullmatch(value) or ".." in value:
        _fail(path, f"identifiant {value!a} invalide ({KEY_RULE})")
    return value


def _key(
    record: dict, key: str, path: str, *, max_length: int, optional: bool = False
) -> str | None:
    """A natural key (code, id, username) that URLs, filters and exports can carry."""
    value = _text(record, key, path, max_length=max_length, optional=optional)
    if value is None:
        return None
    return key_check(value, f"{path}.{key}", username=key == "username")


def _text_safe(value: str, path: str) -> None:
    if "\x00" in value:
        _fail(path.replace("\x00", "\\0"), "caractère nul (U+0000) interdit")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        _fail(
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
                _fail(path or "fichier", f"imbrication trop profonde (au plus {MAX_DEPTH} niveaux)")
            if isinstance(item, dict):
                for key, child in item.items():
                    _text_safe(key, path or "fichier")
                    child_path = f"{path}.{key}" if path else str(key)
                    stack.append((child, depth + 1, child_path))
            else:
                for index, child in enumerate(item):
                    stack.append((child, depth + 1, f"{path}[{index}]"))


def _bool(record: dict, key: str, path: str, *, default: bool) -> bool:
    value = record.get(key, default)
    if not isinstance(value, bool):
        _fail(f"{path}.{key}", "vrai ou faux (true/false) attendu")
    return value


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(path, f"nombre attendu, reçu « {value} »")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        _fail(path, f"nombre invalide « {value} »")
    if not number.is_finite():
        _fail(path, f"nombre invalide « {value} »")
    # Beyond this range a step check (max % step) overflows the decimal context.
    if number and not -6 <= number.adjusted() <= 12:
        _fail(path, f"nombre hors limites « {value} »")
    return number


def value_text(number: Decimal) -> str:
    return format(number, "f") if number.adjusted() > -8 else str(number)


def _fmt(number: Decimal) -> str:
    return format(number.normalize(), "f").replace(".", ",")


def mark_check(value: Any, *, path: str, maximum: Decimal, step: Decimal) -> Decimal:
    """A mark within [0, maximum] and on the step (R-MARK-1)."""
    mark = _decimal(value, path)
    if mark < 0:
        _fail(path, f"{_fmt(mark)} < 0")
    if mark > maximum:
        _fail(path, f"{_fmt(mark)} > max {_fmt(maximum)}")
    if mark % step != 0:
        _fail(path, f"{_fmt(mark)} n'est pas un multiple du pas {_fmt(step)}")
    return mark


def _unique(seen: set, key: Any, path: str, what: str) -> None:
    if key in seen:
        _fail(path, f"{what} « {key} » en double")
    seen.add(key)


def _scheme_leaves(
    nodes: list, path: str, seen: set[str], step: Decimal
) -> tuple[dict[str, Decimal], Decimal]:
    leaves: dict[str, Decimal] = {}
    total = Decimal(0)
    for index, node in enumerate(nodes):
        node_path = f"{path}[{index}]"
        _obj(node, node_path)
        code = _key(node, "code", node_path, max_length=32)
        _unique(seen, code, f"{node_path}.code", "partie")
        if code == GLOBAL_MARK:
            _fail(f"{node_path}.code", "« global » est réservé à la note globale")
        maximum = _decimal(node.get("max"), f"{node_path}.max")
        if maximum <= 0 or maximum % step != 0:
            _fail(f"{node_path}.max", f"maximum positif multiple du pas {_fmt(step)} attendu")
        _text(node, "label", node_path, optional=True)
        children = _list(node, "children", f"{node_path}.", required=False)
        if children:
            child_leaves, child_total = _scheme_leaves(
                children, f"{node_path}.children", seen, step
            )
            if child_total != maximum:
                _fail(
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
        _fail(f"{path}.kind", f"type « {kind} » inconnu (marked ou harmonisation_only)")
    max_mark = _decimal(record.get("max_mark", 20), f"{path}.max_mark")
    step = _decimal(record.get("step", 0.5), f"{path}.step")
    if step <= 0 or step > max_mark:
        _fail(f"{path}.step", f"pas {_fmt(step)} invalide")
    if step < STEP_MIN or step % STEP_MIN != 0:
        _fail(f"{path}.step", f"pas « {value_text(step)} » invalide : au moins 0,01, en centièmes")
    if max_mark <= 0 or max_mark % step != 0:
        _fail(f"{path}.max_mark", f"maximum {_fmt(max_mark)} invalide pour le pas {_fmt(step)}")
    specials = _list(record, "special_marks", f"{path}.", required=False)
    for index, code in enumerate(specials):
        if not isinstance(code, str) or not code.isascii() or not code.isalnum() or len(code) > 8:
            _fail(f"{path}.special_marks[{index}]", "code de note particulière invalide")
    scheme = _list(record, "scheme", f"{path}.", required=False)
    leaves, total = _scheme_leaves(scheme, f"{path}.scheme", set(), step)
    if kind == "marked":
        if not leaves:
            _fail(f"{path}.scheme", "une épreuve ponctuelle a besoin d'un barème")
        if total != max_mark:
            _fail(
                f"{path}.scheme",
                f"somme des parties {_fmt(total)} ≠ note maximale {_fmt(max_mark)}",
            )
    elif leaves:
        _fail(f"{path}.scheme", "une épreuve uniquement harmonisée n'a qu'une note globale")
    subjects = _list(record, "subjects", f"{path}.", required=False)
    seen: set[str] = set()
    for index, subject in enumerate(subjects):
        if not isinstance(subject, str) or not subject or len(subject) > 32:
            _fail(f"{path}.subjects[{index}]", "code de sujet attendu")
        key_check(subject, f"{path}.subjects[{index}]")
        _unique(seen, subject, f"{path}.subjects[{index}]", "sujet")
    tolerance = _decimal(record.get("tolerance", 2), f"{path}.tolerance")
    if not 0 < tolerance <= max_mark:
        _fail(f"{path}.tolerance", f"tolérance {_fmt(tolerance)} hors de ]0, {_fmt(max_mark)}]")
    raw_thresholds = record.get("thresholds")
    if raw_thresholds is None:
        # The defaults are marks out of 20: another maximum gets them in proportion.
        raw_thresholds = [float(t * max_mark / 20) for t in DEFAULT_THRESHOLDS]
    if not isinstance(raw_thresholds, list):
        _fail(f"{path}.thresholds", "liste de notes attendue")
    thresholds: list[Decimal] = []
    for index, value in enumerate(raw_thresholds):
        threshold = _decimal(value, f"{path}.thresholds[{index}]")
        if not 0 < threshold <= max_mark or (thresholds and threshold <= thresholds[-1]):
            _fail(
                f"{path}.thresholds[{index}]",
                f"seuil {_fmt(threshold)} : seuils croissants dans ]0, {_fmt(max_mark)}] attendus",
            )
        thresholds.append(threshold)
    return ExamRules(
        kind, max_mark, step, set(specials), leaves, seen, tolerance, tuple(thresholds)
    )


def _annotations_check(annotations: list, *, path: str, record: dict) -> None:
    """The API's validator (R-UNIT-4): kinds, geometry, texts, at most 500. A PDF's page
    count is not read at import (opening every scan would cost minutes): page indexes are
    bounded by the page files when all are images, else only by the validator's type."""
    pages = record.get("pages") or []
    if pages and all(isinstance(page, str) and not page.lower().endswith(".pdf") for page in pages):
        count = len(pages)
    else:
        count = ANNOTATION_PAGES_MAX
    try:
        annotations_validate(annotations=annotations, pages=count, author="", at="", previous=[])
    except InvalidInput as refused:
        _fail(path, refused.message)


def _page_file(base_dir: Path, value: Any, path: str, cache: dict[str, Path]) -> Path:
    if not isinstance(value, str) or not value:
        _fail(path, "chemin de fichier attendu")
    if value in cache:
        return cache[value]
    relative = PurePosixPath(value)
    if relative.is_absolute() or ".." in relative.parts:
        _fail(path, "le chemin doit être relatif au fichier de session, sans « .. »")
    if relative.suffix.lower() not in {".pdf", ".png", ".jpg", ".jpeg"}:
        _fail(path, "format de page non pris en charge (PDF, PNG ou JPEG)")
    resolved = base_dir / relative
    if not resolved.is_file():
        _fail(path, f"fichier « {value} » introuvable")
    cache[value] = resolved
    return resolved


def session_file_validate(*, data: Any, base_dir: Path, known: KnownKeys) -> ValidSession:
    """Check the whole file; raise SessionFileError at the first bad path."""
    tree_check(data)
    root = _obj(data, "fichier")
    unknown = sorted(key for key in root if key not in TOP_LEVEL_KEYS)
    if unknown:
        _fail(unknown[0], "clé inconnue du format (API.md §1)")
    if root.get("format") != FORMAT:
        _fail("format", f"« {FORMAT} » attendu, reçu « {root.get('format')} »")
    session = _obj(root.get("session"), "session")
    _key(session, "code", "session", max_length=32)
    _text(session, "label", "session")

    academies = set(known.academies)
    seen: set = set()
    for index, record in enumerate(_list(root, "academies", "")):
        path = f"academies[{index}]"
        code = _key(_obj(record, path), "code", path, max_length=32)
        _unique(seen, code, f"{path}.code", "académie")
        _text(record, "label", path)
        academies.add(code)

    department_academy = dict(known.department_academy)
    seen = set()
    for index, record in enumerate(_list(root, "departments", "")):
        path = f"departments[{index}]"
        code = _key(_obj(record, path), "code", path, max_length=8)
        _unique(seen, code, f"{path}.code", "département")
        _text(record, "label", path)
        academy = _text(record, "academy", path, max_length=32)
        if academy not in academies:
            _fail(f"{path}.academy", f"académie « {academy} » inconnue")
        department_academy[code] = academy

    school_department = dict(known.school_department)
    seen = set()
    for index, record in enumerate(_list(root, "schools", "")):
        path = f"schools[{index}]"
        uai = _key(_obj(record, path), "uai", path, max_length=8)
        _unique(seen, uai, f"{path}.uai", "établissement")
        _text(record, "label", path)
        department = _text(record, "department", path, max_length=8)
        if department not in department_academy:
            _fail(f"{path}.department", f"département « {department} » inconnu")
        school_department[uai] = department

    qualifications = set(known.qualifications)
    seen = set()
    for index, record in enumerate(_list(root, "qualifications", "")):
        path = f"qualifications[{index}]"
        code = _key(_obj(record, path), "code", path, max_length=32)
        _unique(seen, code, f"{path}.code", "qualification")
        _text(record, "label", path)
        qualifications.add(code)

    jury_academy = dict(known.jury_academy)
    seen = set()
    for index, record in enumerate(_list(root, "juries", "")):
        path = f"juries[{index}]"
        code = _key(_obj(record, path), "code", path, max_length=32)
        _unique(seen, code, f"{path}.code", "jury")
        academy = _text(record, "academy", path, max_length=32)
        if academy not in academies:
            _fail(f"{path}.academy", f"académie « {academy} » inconnue")
        jury_academy[code] = academy

    exams = dict(known.exams)
    seen = set()
    for index, record in enumerate(_list(root, "exams", "")):
        path = f"exams[{index}]"
        code = _key(_obj(record, path), "code", path, max_length=32)
        _unique(seen, code, f"{path}.code", "épreuve")
        _text(record, "label", path)
        exams[code] = _validate_exam(record, path)

    user_role = dict(known.user_role)
    seen = set()
    seen_emails: set[str] = set()
    for index, record in enumerate(_list(root, "users", "", required=False)):
        path = f"users[{index}]"
        username = _key(_obj(record, path), "username", path, max_length=150)
        _unique(seen, username, f"{path}.username", "utilisateur")
        role = record.get("role")
        if not isinstance(role, str) or role not in ROLES:
            _fail(f"{path}.role", f"rôle « {role} » inconnu")
        academy = _text(record, "academy", path, max_length=32, optional=True)
        if academy is not None and academy not in academies:
            _fail(f"{path}.academy", f"académie « {academy} » inconnue")
        if role != "school" and academy is None:
            _fail(f"{path}.academy", "académie obligatoire pour ce rôle")
        school = _text(record, "school", path, max_length=8, optional=True)
        if role == "school" and school is None:
            _fail(f"{path}.school", "établissement obligatoire pour un compte établissement")
        if school is not None and school not in school_department:
            _fail(f"{path}.school", f"établissement « {school} » inconnu")
        for mission_index, mission in enumerate(
            _list(record, "missions", f"{path}.", required=False)
        ):
            if not isinstance(mission, str) or mission not in exams:
                _fail(f"{path}.missions[{mission_index}]", f"épreuve « {mission} » inconnue")
        for key in ("first_name", "last_name"):
            _text(record, key, path, max_length=150, optional=True)
        # Optional: what the identity provider's e-mail claim is matched on (Sign-in).
        email = _text(record, "email", path, max_length=254, optional=True)
        if email is not None:
            if "@" not in email or any(c.isspace() for c in email):
                _fail(f"{path}.email", f"adresse électronique « {email} » invalide")
            _unique(seen_emails, email.lower(), f"{path}.email", "adresse électronique")
        password = record.get("password")
        if password is not None and (not isinstance(password, str) or not password):
            _fail(f"{path}.password", "mot de passe texte attendu")
        user_role[username] = role

    candidate_school = dict(known.candidate_school)
    seen = set()
    for index, record in enumerate(_list(root, "candidates", "")):
        path = f"candidates[{index}]"
        number = _key(_obj(record, path), "number", path, max_length=32)
        _unique(seen, number, f"{path}.number", "candidat")
        school = _text(record, "school", path, max_length=8)
        if school not in school_department:
            _fail(f"{path}.school", f"établissement « {school} » inconnu")
        _key(record, "class_group", path, max_length=32, optional=True)
        qualification = _text(record, "qualification", path, max_length=32)
        if qualification not in qualifications:
            _fail(f"{path}.qualification", f"qualification « {qualification} » inconnue")
        jury = _text(record, "jury", path, max_length=32)
        if jury not in jury_academy:
            _fail(f"{path}.jury", f"jury « {jury} » inconnu")
        _bool(record, "fraud", path, default=False)
        candidate_school[number] = school

    attendance = dict(known.attendance)
    seen = set()
    for index, record in enumerate(_list(root, "registrations", "")):
        path = f"registrations[{index}]"
        candidate = _text(_obj(record, path), "candidate", path, max_length=32)
        if candidate not in candidate_school:
            _fail(f"{path}.candidate", f"candidat « {candidate} » inconnu")
        exam = _text(record, "exam", path, max_length=32)
        if exam not in exams:
            _fail(f"{path}.exam", f"épreuve « {exam} » inconnue")
        _unique(seen, (candidate, exam), path, "inscription")
        value = record.get("attendance")
        if not (value is None or isinstance(value, str)) or value not in ATTENDANCES:
            _fail(f"{path}.attendance", f"émargement « {value} » inconnu (present, absent ou null)")
        attendance[(candidate, exam)] = value

    batch_exam = dict(known.batch_exam)
    seen = set()
    for index, record in enumerate(_list(root, "batches", "", required=False)):
        path = f"batches[{index}]"
        code = _key(_obj(record, path), "code", path, max_length=32)
        _unique(seen, code, f"{path}.code", "lot")
        exam = _text(record, "exam", path, max_length=32)
        if exam not in exams:
            _fail(f"{path}.exam", f"épreuve « {exam} » inconnue")
        grader = _text(record, "grader", path, max_length=150)
        if user_role.get(grader) != "grader":
            _fail(f"{path}.grader", f"correcteur « {grader} » inconnu")
        _bool(record, "locked", path, default=False)
        batch_exam[code] = exam

    script_owner = dict(known.script_owner)
    owners = {owner: public_id for public_id, owner in script_owner.items()}
    page_files: dict[str, Path] = {}
    seen = set()
    for index, record in enumerate(_list(root, "scripts", "")):
        path = f"scripts[{index}]"
        public_id = _key(_obj(record, path), "id", path, max_length=16)
        _unique(seen, public_id, f"{path}.id", "copie")
        candidate = _text(record, "candidate", path, max_length=32)
        if candidate not in candidate_school:
            _fail(f"{path}.candidate", f"candidat « {candidate} » inconnu")
        exam_code = _text(record, "exam", path, max_length=32)
        rules = exams.get(exam_code)
        if rules is None:
            _fail(f"{path}.exam", f"épreuve « {exam_code} » inconnue")
        owner = (candidate, exam_code)
        if owners.get(owner, public_id) != public_id:
            _fail(path, f"le candidat a déjà une copie pour l'épreuve « {exam_code} »")
        previous = script_owner.get(public_id)
        if previous is not None and previous != owner:
            owners.pop(previous, None)
        owners[owner] = public_id
        if owner not in attendance:
            _fail(f"{path}.candidate", f"candidat non inscrit à l'épreuve « {exam_code} »")
        if attendance[owner] == "absent":
            _fail(f"{path}.candidate", "candidat émargé absent : il ne peut pas avoir de copie")
        subject = _text(record, "subject", path, max_length=32, optional=True)
        if subject is not None and subject not in rules.subjects:
            _fail(f"{path}.subject", f"sujet « {subject} » inconnu pour « {exam_code} »")
        batch = _text(record, "batch", path, max_length=32, optional=True)
        if batch is None:
            if rules.kind == "marked":
                _fail(f"{path}.batch", "lot obligatoire pour une épreuve ponctuelle")
        elif batch_exam.get(batch) != exam_code:
            _fail(f"{path}.batch", f"lot « {batch} » inconnu pour « {exam_code} »")
        special = _text(record, "special_mark", path, max_length=8, optional=True)
        marks = record.get("marks") or {}
        if not isinstance(marks, dict):
            _fail(f"{path}.marks", "un objet de notes est attendu")
        if special is not None:
            if special not in rules.special_marks:
                _fail(f"{path}.special_mark", f"note particulière « {special} » inconnue")
            if marks:
                _fail(f"{path}.marks", "une copie avec note particulière n'a pas de notes")
        elif rules.kind == "marked":
            for code, maximum in rules.leaves.items():
                if code not in marks:
                    _fail(f"{path}.marks.{code}", "note manquante")
                mark_check(
                    marks[code], path=f"{path}.marks.{code}", maximum=maximum, step=rules.step
                )
            for code in marks:
                if code not in rules.leaves:
                    _fail(f"{path}.marks.{code}", "partie inconnue du barème")
        else:
            if set(marks) != {GLOBAL_MARK}:
                _fail(f"{path}.marks", "seule la note « global » est attendue")
            mark_check(
                marks[GLOBAL_MARK],
                path=f"{path}.marks.global",
                maximum=rules.max_mark,
                step=rules.step,
            )
        for page_index, page in enumerate(_list(record, "pages", f"{path}.", required=False)):
            _page_file(base_dir, page, f"{path}.pages[{page_index}]", page_files)
        annotations = record.get("annotations", [])
        if not isinstance(annotations, list):
            _fail(f"{path}.annotations", "une liste d'annotations est attendue")
        if annotations:
            _annotations_check(annotations, path=f"{path}.annotations", record=record)

    return ValidSession(data=root, base_dir=base_dir, exams=exams, page_files=page_files)
