"""The referential part of a session import (API.md §1): session, academies,
departments, schools, class groups, qualifications, juries, exams with their scheme and
subjects, users with their missions, candidates, registrations.

Records are matched by natural key (`harmonie.referential.sync.RecordSync`): new ones
are bulk-inserted, changed ones bulk-updated, unchanged ones left alone, so importing
the same file twice changes nothing. The whole import (one transaction: the file
validated whole, this sync, then the batches and scripts under the exam row lock) is
`harmonie.marking.session_import.session_import`, which sits above both apps.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password

from harmonie.accounts.models import User
from harmonie.referential.models import (
    Academy,
    Candidate,
    ClassGroup,
    Department,
    Exam,
    ExamSession,
    Jury,
    Part,
    Qualification,
    Registration,
    School,
    Subject,
)
from harmonie.referential.session_file import (
    ExamRules,
    KnownKeys,
    SessionFileError,
    ValidSession,
)
from harmonie.referential.sync import RecordSync, SyncReport


@dataclass
class ReferentialIds:
    """What the marking part of an import needs of the referential rows it synced."""

    exam_ids: dict[str, int]
    user_ids: dict[str, int]
    candidate_ids: dict[str, int]
    # id → school_id, class_group_id, qualification_id, jury_id (what a script copies).
    candidate_rows: dict[int, Any]
    school_department: dict[int, int]
    department_academy: dict[int, int]
    # Some label, scheme, user, candidate or registration was created or changed.
    changed: bool


def _json_number(value: Decimal) -> int | float:
    """A threshold as JSON stores it: 10, not 10.0 (nor a Decimal, which JSON refuses)."""
    return int(value) if value == value.to_integral_value() else float(value)


def session_file_read(path: Path) -> Any:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise SessionFileError("fichier", f"« {path} » introuvable") from None
    except UnicodeDecodeError:
        raise SessionFileError("fichier", "encodage invalide (UTF-8 attendu)") from None
    except json.JSONDecodeError as error:
        raise SessionFileError(
            "fichier", f"JSON invalide ligne {error.lineno}, colonne {error.colno}"
        ) from None
    except RecursionError:
        raise SessionFileError("fichier", "imbrication trop profonde") from None


def session_file_code(*, path: Path) -> str | None:
    """The session code a file names, or None when it names none (validation will say)."""
    data = session_file_read(path)
    session = data.get("session") if isinstance(data, dict) else None
    code = session.get("code") if isinstance(session, dict) else None
    return code if isinstance(code, str) else None


def session_exists(*, code: str) -> bool:
    return ExamSession.objects.filter(code=code).exists()


def known_keys_load() -> KnownKeys:
    known = KnownKeys()
    known.academies = set(Academy.objects.values_list("code", flat=True))
    known.department_academy = dict(Department.objects.values_list("code", "academy__code"))
    known.school_department = dict(School.objects.values_list("uai", "department__code"))
    known.qualifications = set(Qualification.objects.values_list("code", flat=True))
    known.jury_academy = dict(Jury.objects.values_list("code", "academy__code"))
    for exam in Exam.objects.prefetch_related("parts", "subjects"):
        known.exams[exam.code] = ExamRules(
            kind=exam.kind,
            max_mark=exam.max_mark,
            step=exam.step,
            special_marks=set(exam.special_marks),
            leaves={part.code: part.max_mark for part in exam.parts.all() if part.is_leaf},
            subjects={subject.code for subject in exam.subjects.all()},
        )
    known.user_role = dict(User.objects.values_list("username", "role"))
    known.candidate_school = dict(Candidate.objects.values_list("number", "school__uai"))
    known.attendance = {
        (number, exam): attendance
        for number, exam, attendance in Registration.objects.values_list(
            "candidate__number", "exam__code", "attendance"
        )
    }
    return known


def _scheme_rows(exam_id: int, nodes: list, parent: str | None, rows: list, counter: list) -> None:
    for node in nodes:
        counter[0] += 1
        children = node.get("children") or []
        rows.append(
            {
                "exam_id": exam_id,
                "code": node["code"],
                "label": node.get("label") or "",
                "max_mark": Decimal(str(node["max"])),
                "position": counter[0],
                "is_leaf": not children,
                "parent_code": parent,
            }
        )
        _scheme_rows(exam_id, children, node["code"], rows, counter)


def _by_code(row: dict) -> Any:
    return row["code"]


@dataclass
class _Places:
    academy_ids: dict[Any, int]
    school_ids: dict[Any, int]
    class_group_ids: dict[Any, int]
    qualification_ids: dict[Any, int]
    jury_ids: dict[Any, int]
    school_department: dict[int, int]
    department_academy: dict[int, int]


def _sync_places(sync: RecordSync, data: dict) -> _Places:
    """Academies, departments, schools and their class groups, qualifications, juries."""
    academy_ids = sync.run(
        Academy,
        name="académies",
        key=_by_code,
        key_fields=["code"],
        records=[{"code": r["code"], "label": r["label"]} for r in data["academies"]],
        fields=["label"],
    )
    department_ids = sync.run(
        Department,
        name="départements",
        key=_by_code,
        key_fields=["code"],
        records=[
            {"code": r["code"], "label": r["label"], "academy_id": academy_ids[r["academy"]]}
            for r in data["departments"]
        ],
        fields=["label", "academy_id"],
    )
    department_academy = dict(Department.objects.values_list("id", "academy_id"))
    school_ids = sync.run(
        School,
        name="établissements",
        key=lambda row: row["uai"],
        key_fields=["uai"],
        records=[
            {"uai": r["uai"], "label": r["label"], "department_id": department_ids[r["department"]]}
            for r in data["schools"]
        ],
        fields=["label", "department_id"],
    )
    school_department = dict(School.objects.values_list("id", "department_id"))
    class_groups = {
        (school_ids[r["school"]], r["class_group"])
        for r in data["candidates"]
        if r.get("class_group")
    }
    class_group_ids = sync.run(
        ClassGroup,
        name="divisions",
        key=lambda row: (row["school_id"], row["code"]),
        key_fields=["school_id", "code"],
        records=[{"school_id": s, "code": c} for s, c in sorted(class_groups)],
        fields=[],
    )
    qualification_ids = sync.run(
        Qualification,
        name="qualifications",
        key=_by_code,
        key_fields=["code"],
        records=[{"code": r["code"], "label": r["label"]} for r in data["qualifications"]],
        fields=["label"],
    )
    jury_ids = sync.run(
        Jury,
        name="jurys",
        key=_by_code,
        key_fields=["code"],
        records=[
            {"code": r["code"], "academy_id": academy_ids[r["academy"]]} for r in data["juries"]
        ],
        fields=["academy_id"],
    )
    return _Places(
        academy_ids=academy_ids,
        school_ids=school_ids,
        class_group_ids=class_group_ids,
        qualification_ids=qualification_ids,
        jury_ids=jury_ids,
        school_department=school_department,
        department_academy=department_academy,
    )


def _sync_exams(sync: RecordSync, valid: ValidSession, session_id: int) -> dict[Any, int]:
    return sync.run(
        Exam,
        name="épreuves",
        key=_by_code,
        key_fields=["code"],
        records=[
            {
                "code": r["code"],
                "session_id": session_id,
                "label": r["label"],
                "kind": r["kind"],
                "max_mark": valid.exams[r["code"]].max_mark,
                "step": valid.exams[r["code"]].step,
                "special_marks": r.get("special_marks") or [],
                "tolerance": valid.exams[r["code"]].tolerance,
                "thresholds": [_json_number(t) for t in valid.exams[r["code"]].thresholds],
            }
            for r in valid.data["exams"]
        ],
        fields=[
            "session_id",
            "label",
            "kind",
            "max_mark",
            "step",
            "special_marks",
            "tolerance",
            "thresholds",
        ],
    )


def _write_schemes(sync: RecordSync, data: dict, exam_ids: dict[Any, int]) -> None:
    rows: list[dict] = []
    for record in data["exams"]:
        _scheme_rows(exam_ids[record["code"]], record.get("scheme") or [], None, rows, [0])
    sync.run(
        Part,
        name="parties",
        key=lambda row: (row["exam_id"], row["code"]),
        key_fields=["exam_id", "code"],
        records=[{k: v for k, v in row.items() if k != "parent_code"} for row in rows],
        fields=["label", "max_mark", "position", "is_leaf"],
    )
    part_ids = {
        (exam, code): pk for pk, exam, code in Part.objects.values_list("id", "exam_id", "code")
    }
    current_parents = dict(Part.objects.values_list("id", "parent_id"))
    changed = []
    for row in rows:
        pk = part_ids[(row["exam_id"], row["code"])]
        parent = part_ids[(row["exam_id"], row["parent_code"])] if row["parent_code"] else None
        if current_parents.get(pk) != parent:
            changed.append(Part(id=pk, parent_id=parent))
    Part.objects.bulk_update(changed, ["parent_id"])
    kept = {(row["exam_id"], row["code"]) for row in rows}
    imported_exams = {exam_ids[record["code"]] for record in data["exams"]}
    stale = [
        pk
        for (exam, code), pk in part_ids.items()
        if exam in imported_exams and (exam, code) not in kept
    ]
    Part.objects.filter(pk__in=stale).delete()
    sync.run(
        Subject,
        name="sujets",
        key=lambda row: (row["exam_id"], row["code"]),
        key_fields=["exam_id", "code"],
        records=[
            {"exam_id": exam_ids[record["code"]], "code": subject}
            for record in data["exams"]
            for subject in record.get("subjects") or []
        ],
        fields=[],
    )


def _write_users(
    sync: RecordSync,
    data: dict,
    academy_ids: dict[Any, int],
    school_ids: dict[Any, int],
    exam_ids: dict[Any, int],
) -> dict[Any, int]:
    # Demo and test passwords only (API.md §1): hashed once per distinct value, since
    # a strong hasher takes a large fraction of a second per call.
    hashes: dict[str, str] = {}

    def password_hash(record: dict) -> str:
        password = record.get("password")
        if not password:
            return make_password(None)
        if password not in hashes:
            hashes[password] = make_password(password)
        return hashes[password]

    records = data.get("users", [])
    existing = set(User.objects.values_list("username", flat=True))
    user_ids = sync.run(
        User,
        name="utilisateurs",
        key=lambda row: row["username"],
        key_fields=["username"],
        records=[
            {
                "username": r["username"],
                "first_name": r.get("first_name") or "",
                "last_name": r.get("last_name") or "",
                "email": r.get("email") or "",
                "role": r["role"],
                "academy_id": academy_ids.get(r.get("academy")),
                "school_id": school_ids.get(r.get("school")),
                "password": "" if r["username"] in existing else password_hash(r),
            }
            for r in records
        ],
        fields=["first_name", "last_name", "email", "role", "academy_id", "school_id"],
        create_only=("password",),
    )
    wanted = {
        (user_ids[r["username"]], exam_ids[mission])
        for r in records
        for mission in r.get("missions") or []
    }
    imported_users = {user_ids[r["username"]] for r in records}
    through = User.missions.through
    current = {
        (user, exam)
        for user, exam in through.objects.filter(user_id__in=imported_users).values_list(
            "user_id", "exam_id"
        )
    }
    through.objects.bulk_create(
        [through(user_id=user, exam_id=exam) for user, exam in sorted(wanted - current)]
    )
    for user, exam in current - wanted:
        through.objects.filter(user_id=user, exam_id=exam).delete()
    return user_ids


def _sync_candidates(sync: RecordSync, data: dict, places: _Places) -> dict[Any, int]:
    school_ids = places.school_ids
    return sync.run(
        Candidate,
        name="candidats",
        key=lambda row: row["number"],
        key_fields=["number"],
        records=(
            {
                "number": r["number"],
                "school_id": school_ids[r["school"]],
                "class_group_id": places.class_group_ids.get(
                    (school_ids[r["school"]], r.get("class_group"))
                ),
                "qualification_id": places.qualification_ids[r["qualification"]],
                "jury_id": places.jury_ids[r["jury"]],
                "fraud": r.get("fraud", False),
            }
            for r in data["candidates"]
        ),
        fields=["school_id", "class_group_id", "qualification_id", "jury_id", "fraud"],
    )


def _sync_registrations(
    sync: RecordSync,
    data: dict,
    places: _Places,
    *,
    exam_ids: dict[Any, int],
    candidate_ids: dict[Any, int],
    candidate_rows: dict[int, Any],
) -> None:
    def candidate_academy(candidate_id: int) -> int:
        school = candidate_rows[candidate_id]["school_id"]
        return places.department_academy[places.school_department[school]]

    sync.run(
        Registration,
        name="inscriptions",
        key=lambda row: (row["candidate_id"], row["exam_id"]),
        key_fields=["candidate_id", "exam_id"],
        records=(
            {
                "candidate_id": candidate_ids[r["candidate"]],
                "exam_id": exam_ids[r["exam"]],
                "academy_id": candidate_academy(candidate_ids[r["candidate"]]),
                "attendance": r.get("attendance"),
            }
            for r in data["registrations"]
        ),
        fields=["academy_id", "attendance"],
    )


def referential_sync(*, valid: ValidSession, report: SyncReport) -> ReferentialIds:
    """Write the referential part of a validated file (the caller's transaction);
    counts go to `report`. Returns the ids the batches and scripts refer to."""
    data = valid.data
    sync = RecordSync(report)
    session_ids = sync.run(
        ExamSession,
        name="sessions",
        key=_by_code,
        key_fields=["code"],
        records=[{"code": data["session"]["code"], "label": data["session"]["label"]}],
        fields=["label"],
    )
    places = _sync_places(sync, data)
    exam_ids = _sync_exams(sync, valid, session_ids[data["session"]["code"]])
    _write_schemes(sync, data, exam_ids)
    user_ids = _write_users(sync, data, places.academy_ids, places.school_ids, exam_ids)
    candidate_ids = _sync_candidates(sync, data, places)
    candidate_rows = {
        row["id"]: row
        for row in Candidate.objects.values(
            "id", "school_id", "class_group_id", "qualification_id", "jury_id"
        ).iterator()
    }
    _sync_registrations(
        sync,
        data,
        places,
        exam_ids=exam_ids,
        candidate_ids=candidate_ids,
        candidate_rows=candidate_rows,
    )
    return ReferentialIds(
        exam_ids=exam_ids,
        user_ids=user_ids,
        candidate_ids=candidate_ids,
        candidate_rows=candidate_rows,
        school_department=places.school_department,
        department_academy=places.department_academy,
        changed=report.changed,
    )
