"""Validation of the marking part of a session file (API.md §1): `batches` and `scripts`.

Runs after `harmonie.referential.session_file.session_file_validate` (the referential
part, whose merged keys it checks against) and speaks its French: the first bad path is
named, e.g. ``scripts[12].marks.Q3 : 21 > max 4``. `session_file_check` runs both.
"""

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from harmonie.accounts.permissions import role_is_grader
from harmonie.errors import InvalidInput
from harmonie.marking.rules import annotations_validate
from harmonie.referential.session_file import (
    GLOBAL_MARK,
    ExamRules,
    KnownKeys,
    ValidSession,
    as_object,
    bool_field,
    fail,
    key_field,
    list_field,
    mark_check,
    session_file_validate,
    text_field,
    unique_check,
)

ANNOTATION_PAGES_MAX = 1000


@dataclass
class KnownScripts:
    """Batches and scripts already in the database, with what validation needs of them."""

    batch_exam: dict[str, str] = field(default_factory=dict)
    script_owner: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class ValidImport:
    """A whole session file checked: its referential part and its page files."""

    session: ValidSession
    page_files: dict[str, Path]

    @property
    def data(self) -> dict[str, Any]:
        return self.session.data

    @property
    def exams(self) -> dict[str, ExamRules]:
        return self.session.exams


def batches_validate(*, valid: ValidSession, known: KnownScripts) -> dict[str, str]:
    """The batches of the file; returns every known batch code → exam code."""
    batch_exam = dict(known.batch_exam)
    seen: set = set()
    for index, record in enumerate(list_field(valid.data, "batches", "", required=False)):
        path = f"batches[{index}]"
        code = key_field(as_object(record, path), "code", path, max_length=32)
        unique_check(seen, code, f"{path}.code", "lot")
        exam = text_field(record, "exam", path, max_length=32)
        if exam not in valid.exams:
            fail(f"{path}.exam", f"épreuve « {exam} » inconnue")
        grader = text_field(record, "grader", path, max_length=150)
        if not role_is_grader(valid.user_role.get(grader)):
            fail(f"{path}.grader", f"correcteur « {grader} » inconnu")
        bool_field(record, "locked", path, default=False)
        batch_exam[code] = exam
    return batch_exam


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
        fail(path, refused.message)


def _page_file(base_dir: Path, value: Any, path: str, cache: dict[str, Path]) -> Path:
    if not isinstance(value, str) or not value:
        fail(path, "chemin de fichier attendu")
    if value in cache:
        return cache[value]
    relative = PurePosixPath(value)
    if relative.is_absolute() or ".." in relative.parts:
        fail(path, "le chemin doit être relatif au fichier de session, sans « .. »")
    if relative.suffix.lower() not in {".pdf", ".png", ".jpg", ".jpeg"}:
        fail(path, "format de page non pris en charge (PDF, PNG ou JPEG)")
    resolved = base_dir / relative
    if not resolved.is_file():
        fail(path, f"fichier « {value} » introuvable")
    cache[value] = resolved
    return resolved


def _script_marks_check(record: dict, path: str, rules: ExamRules) -> None:
    """A special mark, or every leaf mark within its maximum and on the step (R-MARK-1)."""
    special = text_field(record, "special_mark", path, max_length=8, optional=True)
    marks = record.get("marks") or {}
    if not isinstance(marks, dict):
        fail(f"{path}.marks", "un objet de notes est attendu")
    if special is not None:
        if special not in rules.special_marks:
            fail(f"{path}.special_mark", f"note particulière « {special} » inconnue")
        if marks:
            fail(f"{path}.marks", "une copie avec note particulière n'a pas de notes")
    elif rules.kind == "marked":
        for code, maximum in rules.leaves.items():
            if code not in marks:
                fail(f"{path}.marks.{code}", "note manquante")
            mark_check(marks[code], path=f"{path}.marks.{code}", maximum=maximum, step=rules.step)
        for code in marks:
            if code not in rules.leaves:
                fail(f"{path}.marks.{code}", "partie inconnue du barème")
    else:
        if set(marks) != {GLOBAL_MARK}:
            fail(f"{path}.marks", "seule la note « global » est attendue")
        mark_check(
            marks[GLOBAL_MARK], path=f"{path}.marks.global", maximum=rules.max_mark, step=rules.step
        )


class _Owners:
    """One script per candidate and exam, counting the scripts the file moves."""

    def __init__(self, script_owner: dict[str, tuple[str, str]]) -> None:
        self.script_owner = script_owner
        self.owners = {owner: public_id for public_id, owner in script_owner.items()}

    def claim(self, public_id: str, owner: tuple[str, str], path: str) -> None:
        if self.owners.get(owner, public_id) != public_id:
            fail(path, f"le candidat a déjà une copie pour l'épreuve « {owner[1]} »")
        previous = self.script_owner.get(public_id)
        if previous is not None and previous != owner:
            self.owners.pop(previous, None)
        self.owners[owner] = public_id


def _script_validate(
    record: dict,
    path: str,
    *,
    valid: ValidSession,
    batch_exam: dict[str, str],
    owners: _Owners,
    page_files: dict[str, Path],
) -> None:
    candidate = text_field(record, "candidate", path, max_length=32)
    if candidate not in valid.candidate_school:
        fail(f"{path}.candidate", f"candidat « {candidate} » inconnu")
    exam_code = text_field(record, "exam", path, max_length=32)
    rules = valid.exams.get(exam_code)
    if rules is None:
        fail(f"{path}.exam", f"épreuve « {exam_code} » inconnue")
    owner = (candidate, exam_code)
    owners.claim(record["id"], owner, path)
    if owner not in valid.attendance:
        fail(f"{path}.candidate", f"candidat non inscrit à l'épreuve « {exam_code} »")
    if valid.attendance[owner] == "absent":
        fail(f"{path}.candidate", "candidat émargé absent : il ne peut pas avoir de copie")
    subject = text_field(record, "subject", path, max_length=32, optional=True)
    if subject is not None and subject not in rules.subjects:
        fail(f"{path}.subject", f"sujet « {subject} » inconnu pour « {exam_code} »")
    batch = text_field(record, "batch", path, max_length=32, optional=True)
    if batch is None:
        if rules.kind == "marked":
            fail(f"{path}.batch", "lot obligatoire pour une épreuve ponctuelle")
    elif batch_exam.get(batch) != exam_code:
        fail(f"{path}.batch", f"lot « {batch} » inconnu pour « {exam_code} »")
    _script_marks_check(record, path, rules)
    for page_index, page in enumerate(list_field(record, "pages", f"{path}.", required=False)):
        _page_file(valid.base_dir, page, f"{path}.pages[{page_index}]", page_files)
    annotations = record.get("annotations", [])
    if not isinstance(annotations, list):
        fail(f"{path}.annotations", "une liste d'annotations est attendue")
    if annotations:
        _annotations_check(annotations, path=f"{path}.annotations", record=record)


def scripts_validate(
    *, valid: ValidSession, known: KnownScripts, batch_exam: dict[str, str]
) -> dict[str, Path]:
    """The scripts of the file; returns their page files (file path → file)."""
    owners = _Owners(dict(known.script_owner))
    page_files: dict[str, Path] = {}
    seen: set = set()
    for index, record in enumerate(list_field(valid.data, "scripts", "")):
        path = f"scripts[{index}]"
        public_id = key_field(as_object(record, path), "id", path, max_length=16)
        unique_check(seen, public_id, f"{path}.id", "copie")
        _script_validate(
            record,
            path,
            valid=valid,
            batch_exam=batch_exam,
            owners=owners,
            page_files=page_files,
        )
    return page_files


def session_file_check(
    *, data: Any, base_dir: Path, known: KnownKeys, known_scripts: KnownScripts
) -> ValidImport:
    """Check the whole file, referential part then batches and scripts (the file's order);
    raise SessionFileError at the first bad path."""
    valid = session_file_validate(data=data, base_dir=base_dir, known=known)
    batch_exam = batches_validate(valid=valid, known=known_scripts)
    page_files = scripts_validate(valid=valid, known=known_scripts, batch_exam=batch_exam)
    return ValidImport(session=valid, page_files=page_files)
