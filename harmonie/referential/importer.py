"""`session_import`: load a session file (API.md §1) in one transaction.

The whole file is validated first (`session_file_validate`); nothing is written when
it is refused. Records are matched by natural key: new ones are bulk-inserted,
changed ones bulk-updated, unchanged ones left alone, so importing the same file
twice changes nothing.

An import never loses work done in Harmonie (R-TRUST-2): each script keeps the
fingerprint of the marking the last import brought. A script edited since (its marking
no longer matches that fingerprint) is left alone when the file's marking has not
changed; when it has, the whole file is refused (`ImportConflict`) unless
`replace_edited`, and then each replacement is a new `ScriptVersion` with its audit row.
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
from django.db.models import Max
from django.utils import timezone

from harmonie.accounts.models import User
from harmonie.audit.services import audit_log
from harmonie.marking.fingerprint import marking_fingerprint
from harmonie.marking.models import Batch, Script, ScriptVersion
from harmonie.marking.rules import final_mark_compute
from harmonie.referential.import_marking import (
    ImportConflict,
    conflicts_describe,
    marking_audit_state,
    marking_same,
    marking_state_fingerprint,
)
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
    # R-TRUST-2: edited scripts left as Harmonie holds them although the file's marking
    # differs from theirs (it has not changed since the last import)...
    kept_edited: int = 0
    # ... and edited scripts whose marking the file replaced (`replace_edited`).
    replaced: int = 0

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def summary(self) -> str:
        parts = [
            f"{name} : {self.created.get(name, 0)} créé(s), {self.updated.get(name, 0)} modifié(s)"
            for name in self.created
            if self.created.get(name) or self.updated.get(name)
        ]
        if self.kept_edited:
            parts.append(
                f"{self.kept_edited} copie(s) modifiée(s) dans Harmonie gardée(s) telles quelles"
            )
        if self.replaced:
            parts.append(
                f"{self.replaced} copie(s) modifiée(s) dans Harmonie remplacée(s) par le fichier"
            )
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
    except RecursionError:
        raise SessionFileError("fichier", "imbrication trop profonde") from None


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
        read_only: tuple[str, ...] = (),
        on_existing: Callable[[dict, dict], None] | None = None,
        on_create: Callable[[dict], None] | None = None,
        before_write: Callable[[], None] | None = None,
    ) -> dict[Any, int]:
        """`on_existing(row, record)` may change a record before it is compared with its
        row; `on_update(row, record)` may set `extra_fields` on a changed record;
        `create_only` fields are written for new rows and never compared; `read_only`
        fields are read with the rows, never written; `before_write()` runs once every
        record is compared, before anything of this model is written (it may refuse)."""
        existing = {
            key(row): row
            for row in model.objects.values(
                "id", *key_fields, *fields, *extra_fields, *read_only
            ).iterator()
        }
        to_create: list[dict] = []
        to_update: list[models.Model] = []
        for record in records:
            row = existing.get(key(record))
            if row is None:
                if on_create is not None:
                    on_create(record)
                to_create.append({f: record[f] for f in (*key_fields, *fields, *create_only)})
                continue
            if on_existing is not None:
                on_existing(row, record)
            if any(row[f] != record[f] for f in fields):
                if on_update is not None:
                    on_update(row, record)
                to_update.append(
                    model(id=row["id"], **{f: record[f] for f in (*fields, *extra_fields)})
                )
        if before_write is not None:
            before_write()
        update_fields = [f for f in (*fields, *extra_fields) if f not in key_fields]
        for start in range(0, len(to_update), BULK_SIZE):
            model.objects.bulk_update(to_update[start : start + BULK_SIZE], update_fields)
        rows_insert(model, to_create)
        self.report.created[name] = len(to_create)
        self.report.updated[name] = len(to_update)
        if to_create:
            existing = {key(row): row for row in model.objects.values("id", *key_fields).iterator()}
        return {natural: row["id"] for natural, row in existing.items()}


def _pages_stored(valid: ValidSession, session_code: str) -> dict[str, str]:
    """File path → relative path of the page scan under SCANS_ROOT."""
    return {relative: f"{session_code}/{relative}" for relative in valid.page_files}


def _pages_copy(valid: ValidSession, stored: dict[str, str]) -> None:
    """Copy page scans under SCANS_ROOT (after the rows are written: a refused file
    copies nothing)."""
    root = Path(settings.SCANS_ROOT)
    for relative, source in valid.page_files.items():
        target = root / stored[relative]
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


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


def session_file_code(*, path: Path) -> str | None:
    """The session code a file names, or None when it names none (validation will say)."""
    data = session_file_read(path)
    session = data.get("session") if isinstance(data, dict) else None
    code = session.get("code") if isinstance(session, dict) else None
    return code if isinstance(code, str) else None


def session_exists(*, code: str) -> bool:
    return ExamSession.objects.filter(code=code).exists()


def session_import(
    *, path: Path, actor: User | None = None, replace_edited: bool = False
) -> ImportReport:
    """Validate then load the session file at `path`.

    Raises SessionFileError if the file is refused, ImportConflict if it would replace
    the marking of scripts edited in Harmonie and `replace_edited` is not given
    (R-TRUST-2); nothing is written then.
    """
    data = session_file_read(path)
    valid = session_file_validate(data=data, base_dir=path.parent, known=known_keys_load())
    pages = _pages_stored(valid, data["session"]["code"])
    report = ImportReport()
    with transaction.atomic():
        # The exam rows are the lock every mark-changing service takes first (R-TRUST-2).
        _exams_lock(data)
        _write(
            valid,
            pages,
            report,
            replace_edited=replace_edited,
            actor=actor,
            file_name=path.name,
        )
        _pages_copy(valid, pages)
        if report.changed:
            audit_log(
                actor=actor,
                action="session.imported",
                target_type="session",
                target_id=data["session"]["code"],
                after={
                    "file": path.name,
                    "created": report.created,
                    "updated": report.updated,
                    "kept_edited": report.kept_edited,
                    "replaced": report.replaced,
                },
            )
    return report


def _exams_lock(data: dict) -> None:
    """`select_for_update` on every existing exam whose scripts or batches the file
    writes, in id order (a fixed order: two imports never deadlock)."""
    codes = {record["code"] for record in data["exams"]}
    codes |= {record["exam"] for record in data["scripts"]}
    codes |= {record["exam"] for record in data.get("batches", [])}
    list(
        Exam.objects.select_for_update()
        .filter(code__in=sorted(codes))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _write(
    valid: ValidSession,
    pages: dict[str, str],
    report: ImportReport,
    *,
    replace_edited: bool,
    actor: User | None,
    file_name: str,
) -> None:
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
    # (exam, academy) whose scripts or batches this import changes: their marks versions
    # are bumped at the end, so no cached list, statistic or simulation is stale.
    touched: set[tuple[int, int]] = set()

    def batch_changed(row: dict, record: dict) -> None:
        touched.add((row["exam_id"], row["academy_id"]))
        touched.add((record["exam_id"], record["academy_id"]))

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
        touched=touched,
        replace_edited=replace_edited,
        actor=actor,
        file_name=file_name,
    )
    referential = {name for name in report.created if name not in ("copies", "lots")}
    if any(report.created[name] or report.updated[name] for name in referential):
        # Labels, scheme or candidates changed: lists and statistics of every exam of the
        # file show them (labels are cached under the exam's version).
        file_exams = {exam_ids[r["code"]] for r in data["exams"]}
        file_exams |= {exam_ids[r["exam"]] for r in data["scripts"]}
        touched.update(
            Script.objects.filter(exam_id__in=file_exams)
            .values_list("exam_id", "academy_id")
            .distinct()
        )
        touched.update((exam_id, None) for exam_id in file_exams)
    for exam_id in sorted({exam for exam, _academy in touched}):
        marks_version_bump(
            exam_id=exam_id,
            academy_ids={a for e, a in touched if e == exam_id and a is not None},
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


# A script's marking: what a grader or a coordinator edits, what R-TRUST-2 protects.
MARKING_FIELDS = ("marks", "special_mark", "initial_mark", "final_mark", "annotations")
SCRIPT_FIELDS = [
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
    "imported_fingerprint",
]
# What lists, statistics and simulations read: a change bumps the marks version.
SCRIPT_DATA_FIELDS = [name for name in SCRIPT_FIELDS if name != "imported_fingerprint"]


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
    touched: set[tuple[int, int | None]],
    replace_edited: bool,
    actor: User | None,
    file_name: str,
) -> None:
    """Sync the scripts (R-TRUST-2).

    For an existing script, the file's marking is compared with the fingerprint of what
    the last import brought and with the script's marking: unchanged in the file → the
    script is left as Harmonie holds it (edited or not); changed in the file and the
    script never edited → updated (delta kept, final mark recomputed, conformity
    cleared, version + 1); changed in the file and the script edited in Harmonie →
    a conflict, the whole import refused, unless `replace_edited`.
    """
    subject_ids = {
        (exam, code): pk for pk, exam, code in Subject.objects.values_list("id", "exam_id", "code")
    }
    exam_by_id = {pk: valid.exams[code] for code, pk in exam_ids.items() if code in valid.exams}
    exam_codes = {pk: code for code, pk in exam_ids.items()}
    # Scripts with saved versions (edited in Harmonie once): their last version number.
    history = dict(
        ScriptVersion.objects.order_by()
        .values("script_id")
        .annotate(last=Max("number"))
        .values_list("script_id", "last")
    )

    def records() -> Iterable[dict]:
        for r in valid.data["scripts"]:
            exam_id = exam_ids[r["exam"]]
            rules = exam_by_id[exam_id]
            candidate = candidate_rows[candidate_ids[r["candidate"]]]
            batch_id = batch_ids[r["batch"]] if r.get("batch") else None
            batch = batch_rows[batch_id] if batch_id else None
            department = school_department[candidate["school_id"]]
            initial = _initial_mark(rules, r)
            marks = r.get("marks") or {}
            special_mark = r.get("special_mark")
            annotations = r.get("annotations") or []
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
                "marks": marks,
                "special_mark": special_mark,
                "initial_mark": initial,
                # A new script has no harmonisation; an existing one's is set in compare().
                "final_mark": final_mark_compute(
                    initial=initial, delta=Decimal(0), maximum=rules.max_mark
                ),
                "annotations": annotations,
                "pages": [pages[page] for page in r.get("pages") or []],
                "imported_fingerprint": marking_fingerprint(
                    marks=marks, special_mark=special_mark, annotations=annotations
                ),
            }

    conflicts: list[tuple[dict, dict]] = []
    replacing: dict[int, tuple[dict, dict]] = {}
    versions: list[ScriptVersion] = []

    def keep(row: dict, record: dict) -> None:
        for name in MARKING_FIELDS:
            record[name] = row[name]

    def compare(row: dict, record: dict) -> None:
        incoming = record["imported_fingerprint"]
        stored = row["imported_fingerprint"]
        if incoming == stored:
            # The file brings what the last import brought: Harmonie's marking stays.
            if not marking_same(row, record):
                sync.report.kept_edited += 1
            keep(row, record)
            return
        if marking_same(row, record):
            # Harmonie already holds the file's marking: only the fingerprint moves.
            keep(row, record)
            return
        current = marking_state_fingerprint(row)
        # A row without fingerprint (not imported): edited once past its first version.
        edited = current != stored if stored is not None else row["version"] > 1
        if edited:
            if not replace_edited:
                conflicts.append((row, dict(record)))  # the file's marking, before keep()
                keep(row, record)
                return
            replacing[row["id"]] = (row, record)
        # A new marking keeps the harmonisation in force (R-MARK-4).
        record["final_mark"] = final_mark_compute(
            initial=record["initial_mark"],
            delta=row["delta"],
            maximum=exam_by_id[record["exam_id"]].max_mark,
        )

    def script_changed(row: dict, record: dict) -> None:
        if any(row[name] != record[name] for name in MARKING_FIELDS):
            record["version"] = max(row["version"], history.get(row["id"], 0)) + 1
            record["final_marks"] = None
            if row["id"] in replacing and row["id"] not in history:
                # The marking as it stood before: kept as the script's first version.
                versions.append(
                    ScriptVersion(
                        script_id=row["id"],
                        number=row["version"],
                        author=None,
                        marks=row["marks"],
                        special_mark=row["special_mark"],
                        annotations=row["annotations"],
                        initial_mark=row["initial_mark"],
                    )
                )
            if row["id"] in replacing or row["id"] in history:
                # A script with a history keeps every marking it had, imports included.
                versions.append(
                    ScriptVersion(
                        script_id=row["id"],
                        number=record["version"],
                        author=actor if getattr(actor, "pk", None) else None,
                        marks=record["marks"],
                        special_mark=record["special_mark"],
                        annotations=record["annotations"],
                        initial_mark=record["initial_mark"],
                        from_import=True,
                    )
                )
        else:
            record["version"] = row["version"]
            record["final_marks"] = row["final_marks"]
        if any(row[name] != record[name] for name in SCRIPT_DATA_FIELDS):
            touched.add((row["exam_id"], row["academy_id"]))
            touched.add((record["exam_id"], record["academy_id"]))

    def script_created(record: dict) -> None:
        touched.add((record["exam_id"], record["academy_id"]))

    def conflicts_refuse() -> None:
        if conflicts:
            raise ImportConflict(
                conflicts_describe(conflicts=conflicts, exam_codes=exam_codes, exams=exam_by_id)
            )

    sync.run(
        Script,
        name="copies",
        key=lambda row: row["public_id"],
        key_fields=["public_id"],
        records=records(),
        fields=SCRIPT_FIELDS,
        on_update=script_changed,
        extra_fields=("version", "final_marks"),
        read_only=("delta",),
        on_existing=compare,
        on_create=script_created,
        before_write=conflicts_refuse,
    )
    ScriptVersion.objects.bulk_create(versions, batch_size=BULK_SIZE)
    sync.report.replaced = len(replacing)
    if replacing:
        exams = Exam.objects.in_bulk({record["exam_id"] for _row, record in replacing.values()})
        academies = Academy.objects.in_bulk(
            {record["academy_id"] for _row, record in replacing.values()}
        )
        for row, record in sorted(replacing.values(), key=lambda pair: pair[1]["public_id"]):
            audit_log(
                actor=actor,
                action="script.import_replaced",
                target_type="script",
                target_id=record["public_id"],
                exam=exams[record["exam_id"]],
                academy=academies[record["academy_id"]],
                before=marking_audit_state(row),
                after={**marking_audit_state(record), "file": file_name},
            )
