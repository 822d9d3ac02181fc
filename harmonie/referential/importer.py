"""`session_import`: load a session file (API.md §1) in one transaction.

The whole file is validated first (`session_file_validate`); nothing is written when
it is refused. Records are matched by natural key: new ones are bulk-inserted,
changed ones bulk-updated, unchanged ones left alone, so importing the same file
twice changes nothing.
"""

import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from harmonie.accounts.models import User
from harmonie.audit.services import audit_log
from harmonie.marking.models import Batch, Script
from harmonie.marking.rules import final_mark_compute
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
    GLOBAL_MARK,
    ExamRules,
    KnownKeys,
    SessionFileError,
    ValidSession,
    session_file_validate,
)
from harmonie.referential.versions import marks_version_bump

BULK_SIZE = 5000


@dataclass
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def summary(self) -> str:
        parts = [
            f"{name} : {self.created.get(name, 0)} créé(s), {self.updated.get(name, 0)} modifié(s)"
            for name in self.created
            if self.created.get(name) or self.updated.get(name)
        ]
        return "; ".join(parts) if parts else "aucun changement"


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
    known.batch_exam = dict(Batch.objects.values_list("code", "exam__code"))
    known.script_owner = {
        public_id: (number, exam)
        for public_id, number, exam in Script.objects.values_list(
            "public_id", "candidate__number", "exam__code"
        )
    }
    return known


def rows_insert(model: type[models.Model], records: list[dict]) -> None:
    """Insert new rows fast: COPY on PostgreSQL, executemany elsewhere.

    Django's bulk_create builds a model instance per row and compiles each batch; at
    600,000 scripts that is most of an import. Columns the records leave out take the
    field's default (auto_now fields: now).
    """
    if not records:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    given = set(records[0])
    now = timezone.now()
    fillers: dict[str, Any] = {}
    for column in fields:
        if column.attname in given:
            continue
        if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
            fillers[column.attname] = now
        else:
            fillers[column.attname] = column.get_default()
    json_columns = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = [f.attname for f in fields]

    def prepared(record: dict) -> tuple:
        values = []
        for column in columns:
            value = record[column] if column in record else fillers[column]
            if column in json_columns and value is not None:
                value = json.dumps(value, ensure_ascii=False)
            values.append(value)
        return tuple(values)

    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for record in records:
                    copy.write_row(prepared(record))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"  # noqa: S608
            for start in range(0, len(records), BULK_SIZE):
                cursor.executemany(sql, [prepared(r) for r in records[start : start + BULK_SIZE]])


class _Sync:
    """Create or update rows of one model by natural key; count what changed."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report

    def run(
        self,
        model: type[models.Model],
        *,
        name: str,
        key: Callable[[dict], Any],
        key_fields: list[str],
        records: Iterable[dict],
        fields: list[str],
        on_update: Callable[[dict, dict], None] | None = None,
        extra_fields: tuple[str, ...] = (),
        create_only: tuple[str, ...] = (),
    ) -> dict[Any, int]:
        """`on_update(row, record)` may set `extra_fields` on a changed record;
        `create_only` fields are written for new rows and never compared."""
        existing = {
            key(row): row
            for row in model.objects.values("id", *key_fields, *fields, *extra_fields).iterator()
        }
        to_create: list[dict] = []
        to_update: list[models.Model] = []
        for record in records:
            row = existing.get(key(record))
            if row is None:
                to_create.append({f: record[f] for f in (*key_fields, *fields, *create_only)})
                continue
            if any(row[f] != record[f] for f in fields):
                if on_update is not None:
                    on_update(row, record)
                to_update.append(
                    model(id=row["id"], **{f: record[f] for f in (*fields, *extra_fields)})
                )
        update_fields = [f for f in (*fields, *extra_fields) if f not in key_fields]
        for start in range(0, len(to_update), BULK_SIZE):
            model.objects.bulk_update(to_update[start : start + BULK_SIZE], update_fields)
        rows_insert(model, to_create)
        self.report.created[name] = len(to_create)
        self.report.updated[name] = len(to_update)
        if to_create:
            existing = {key(row): row for row in model.objects.values("id", *key_fields).iterator()}
        return {natural: row["id"] for natural, row in existing.items()}


def _pages_copy(valid: ValidSession, session_code: str) -> dict[str, str]:
    """Copy page scans under SCANS_ROOT; return file path → stored relative path."""
    stored: dict[str, str] = {}
    root = Path(settings.SCANS_ROOT)
    for relative, source in valid.page_files.items():
        target_relative = f"{session_code}/{relative}"
        target = root / target_relative
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        stored[relative] = target_relative
    return stored


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


def _initial_mark(rules: ExamRules, record: dict) -> Decimal | None:
    if record.get("special_mark") is not None:
        return None
    marks = record.get("marks") or {}
    if rules.kind == "marked":
        return sum((Decimal(str(marks[code])) for code in rules.leaves), Decimal(0))
    return Decimal(str(marks[GLOBAL_MARK]))


def session_import(*, path: Path, actor: User | None = None) -> ImportReport:
    """Validate then load the session file at `path`; raise SessionFileError if refused."""
    data = session_file_read(path)
    valid = session_file_validate(data=data, base_dir=path.parent, known=known_keys_load())
    pages = _pages_copy(valid, data["session"]["code"])
    report = ImportReport()
    with transaction.atomic():
        _write(valid, pages, report)
        if report.changed:
            audit_log(
                actor=actor,
                action="session.imported",
                target_type="session",
                target_id=data["session"]["code"],
                after={"file": path.name, "created": report.created, "updated": report.updated},
            )
    return report


def _write(valid: ValidSession, pages: dict[str, str], report: ImportReport) -> None:
    data = valid.data
    sync = _Sync(report)
    by_code = lambda row: row["code"]  # noqa: E731

    session_ids = sync.run(
        ExamSession,
        name="sessions",
        key=by_code,
        key_fields=["code"],
        records=[{"code": data["session"]["code"], "label": data["session"]["label"]}],
        fields=["label"],
    )
    session_id = session_ids[data["session"]["code"]]
    academy_ids = sync.run(
        Academy,
        name="académies",
        key=by_code,
        key_fields=["code"],
        records=[{"code": r["code"], "label": r["label"]} for r in data["academies"]],
        fields=["label"],
    )
    department_ids = sync.run(
        Department,
        name="départements",
        key=by_code,
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
        key=by_code,
        key_fields=["code"],
        records=[{"code": r["code"], "label": r["label"]} for r in data["qualifications"]],
        fields=["label"],
    )
    jury_ids = sync.run(
        Jury,
        name="jurys",
        key=by_code,
        key_fields=["code"],
        records=[
            {"code": r["code"], "academy_id": academy_ids[r["academy"]]} for r in data["juries"]
        ],
        fields=["academy_id"],
    )
    exam_ids = sync.run(
        Exam,
        name="épreuves",
        key=by_code,
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
            for r in data["exams"]
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
    _write_schemes(sync, data, exam_ids)
    user_ids = _write_users(sync, data, academy_ids, school_ids, exam_ids)

    candidate_ids = sync.run(
        Candidate,
        name="candidats",
        key=lambda row: row["number"],
        key_fields=["number"],
        records=(
            {
                "number": r["number"],
                "school_id": school_ids[r["school"]],
                "class_group_id": class_group_ids.get(
                    (school_ids[r["school"]], r.get("class_group"))
                ),
                "qualification_id": qualification_ids[r["qualification"]],
                "jury_id": jury_ids[r["jury"]],
                "fraud": r.get("fraud", False),
            }
            for r in data["candidates"]
        ),
        fields=["school_id", "class_group_id", "qualification_id", "jury_id", "fraud"],
    )
    candidate_rows = {
        row["id"]: row
        for row in Candidate.objects.values(
            "id", "school_id", "class_group_id", "qualification_id", "jury_id"
        ).iterator()
    }

    def candidate_academy(candidate_id: int) -> int:
        school = candidate_rows[candidate_id]["school_id"]
        return department_academy[school_department[school]]

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
    touched_exams: set[int] = set()

    def batch_changed(row: dict, record: dict) -> None:
        touched_exams.add(record["exam_id"])

    grader_academy = dict(
        User.objects.filter(pk__in=user_ids.values()).values_list("id", "academy_id")
    )
    batch_ids = sync.run(
        Batch,
        name="lots",
        key=by_code,
        key_fields=["code"],
        records=[
            {
                "code": r["code"],
                "exam_id": exam_ids[r["exam"]],
                "grader_id": user_ids[r["grader"]],
                "academy_id": grader_academy[user_ids[r["grader"]]],
                "locked": r.get("locked", False),
            }
            for r in data.get("batches", [])
        ],
        fields=["exam_id", "grader_id", "academy_id", "locked"],
        on_update=batch_changed,
    )
    batch_rows = {row["id"]: row for row in Batch.objects.values("id", "grader_id", "locked")}
    _write_scripts(
        sync,
        valid,
        pages,
        exam_ids=exam_ids,
        candidate_ids=candidate_ids,
        candidate_rows=candidate_rows,
        batch_ids=batch_ids,
        batch_rows=batch_rows,
        school_department=school_department,
        department_academy=department_academy,
        touched_exams=touched_exams,
    )
    touched = Script.objects.filter(exam_id__in=touched_exams).values_list("exam_id", "academy_id")
    for exam_id in sorted(touched_exams):
        marks_version_bump(
            exam_id=exam_id,
            academy_ids={academy for exam, academy in touched.distinct() if exam == exam_id},
        )


def _write_schemes(sync: _Sync, data: dict, exam_ids: dict[Any, int]) -> None:
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
    sync: _Sync,
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
                "role": r["role"],
                "academy_id": academy_ids.get(r.get("academy")),
                "school_id": school_ids.get(r.get("school")),
                "password": "" if r["username"] in existing else password_hash(r),
            }
            for r in records
        ],
        fields=["first_name", "last_name", "role", "academy_id", "school_id"],
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


def _write_scripts(
    sync: _Sync,
    valid: ValidSession,
    pages: dict[str, str],
    *,
    exam_ids: dict[Any, int],
    candidate_ids: dict[Any, int],
    candidate_rows: dict[int, dict],
    batch_ids: dict[Any, int],
    batch_rows: dict[int, dict],
    school_department: dict[int, int],
    department_academy: dict[int, int],
    touched_exams: set[int],
) -> None:
    subject_ids = {
        (exam, code): pk for pk, exam, code in Subject.objects.values_list("id", "exam_id", "code")
    }
    exam_by_id = {pk: valid.exams[code] for code, pk in exam_ids.items() if code in valid.exams}
    deltas = dict(Script.objects.exclude(delta=0).values_list("public_id", "delta"))

    def records() -> Iterable[dict]:
        for r in valid.data["scripts"]:
            exam_id = exam_ids[r["exam"]]
            rules = exam_by_id[exam_id]
            candidate = candidate_rows[candidate_ids[r["candidate"]]]
            batch_id = batch_ids[r["batch"]] if r.get("batch") else None
            batch = batch_rows[batch_id] if batch_id else None
            department = school_department[candidate["school_id"]]
            initial = _initial_mark(rules, r)
            delta = deltas.get(r["id"], Decimal(0))
            yield {
                "public_id": r["id"],
                "exam_id": exam_id,
                "candidate_id": candidate["id"],
                "subject_id": subject_ids.get((exam_id, r.get("subject"))),
                "batch_id": batch_id,
                "academy_id": department_academy[department],
                "department_id": department,
                "school_id": candidate["school_id"],
                "class_group_id": candidate["class_group_id"],
                "qualification_id": candidate["qualification_id"],
                "jury_id": candidate["jury_id"],
                "grader_id": batch["grader_id"] if batch else None,
                "locked": batch["locked"] if batch else True,
                "marks": r.get("marks") or {},
                "special_mark": r.get("special_mark"),
                "initial_mark": initial,
                "final_mark": final_mark_compute(
                    initial=initial, delta=delta, maximum=rules.max_mark
                ),
                "annotations": r.get("annotations") or [],
                "pages": [pages[page] for page in r.get("pages") or []],
            }

    marking_fields = {"marks", "special_mark", "initial_mark", "final_mark"}

    def script_changed(row: dict, record: dict) -> None:
        touched_exams.add(record["exam_id"])
        if any(row[f] != record[f] for f in marking_fields):
            record["version"] = row["version"] + 1
            record["final_marks"] = None
        else:
            record["version"] = row["version"]
            record["final_marks"] = row["final_marks"]

    sync.run(
        Script,
        name="copies",
        key=lambda row: row["public_id"],
        key_fields=["public_id"],
        records=records(),
        fields=[
            "exam_id",
            "candidate_id",
            "subject_id",
            "batch_id",
            "academy_id",
            "department_id",
            "school_id",
            "class_group_id",
            "qualification_id",
            "jury_id",
            "grader_id",
            "locked",
            "marks",
            "special_mark",
            "initial_mark",
            "final_mark",
            "annotations",
            "pages",
        ],
        on_update=script_changed,
        extra_fields=("version", "final_marks"),
    )
    if sync.report.created["copies"]:
        touched_exams.update(exam_by_id)
