"""The marking part of a session import (API.md §1): batches, scripts, script versions
and the page scans, under the exam row lock (R-TRUST-2, R-MASS-10).

An import never loses work done in Harmonie (R-TRUST-2): each script keeps the
fingerprint of the marking the last import brought. A script edited since (its marking
no longer matches that fingerprint) is left alone when the file's marking has not
changed; when it has, the whole file is refused (`ImportConflict`) unless
`replace_edited`, and then each replacement is a new `ScriptVersion` with its audit row.
`harmonie.marking.import_guard` decides, this module writes.
"""

import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from harmonie.accounts.models import User
from harmonie.audit.services import audit_log
from harmonie.marking.fingerprint import marking_fingerprint
from harmonie.marking.import_guard import (
    ImportConflict,
    conflicts_describe,
    marking_audit_state,
    marking_same,
    marking_state_fingerprint,
)
from harmonie.marking.models import Batch, Script, ScriptVersion
from harmonie.marking.rules import final_mark_compute
from harmonie.marking.session_file import KnownScripts, ValidImport
from harmonie.referential.importer import ReferentialIds
from harmonie.referential.models import Academy, Exam, Subject
from harmonie.referential.session_file import GLOBAL_MARK, ExamRules
from harmonie.referential.sync import BULK_SIZE, RecordSync, SyncReport

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

# (exam id, academy id or None): whose marks versions an import bumps.
Touched = set[tuple[int, int | None]]


@dataclass
class ImportReport(SyncReport):
    """Counts of the rows an import wrote, and what R-TRUST-2 did to scripts edited in
    Harmonie."""

    # Edited scripts left as Harmonie holds them although the file's marking differs
    # from theirs (it has not changed since the last import)...
    kept_edited: int = 0
    # ... and edited scripts whose marking the file replaced (`replace_edited`).
    replaced: int = 0

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


def known_scripts_load() -> KnownScripts:
    """The batches and scripts already in the database, for validation."""
    return KnownScripts(
        batch_exam=dict(Batch.objects.values_list("code", "exam__code")),
        script_owner={
            public_id: (number, exam)
            for public_id, number, exam in Script.objects.values_list(
                "public_id", "candidate__number", "exam__code"
            )
        },
    )


def exams_lock(*, codes: Iterable[str]) -> None:
    """`select_for_update` on the existing exams of these codes, in id order (a fixed
    order: two imports, or an import and a mark-changing service, never deadlock)."""
    list(
        Exam.objects.select_for_update()
        .filter(code__in=sorted(set(codes)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def file_exam_codes(data: dict) -> set[str]:
    """The exams whose scheme, batches or scripts a file writes."""
    codes = {record["code"] for record in data["exams"]}
    codes |= {record["exam"] for record in data["scripts"]}
    codes |= {record["exam"] for record in data.get("batches", [])}
    return codes


def pages_stored(valid: ValidImport) -> dict[str, str]:
    """File path → relative path of the page scan under SCANS_ROOT."""
    session_code = valid.data["session"]["code"]
    return {relative: f"{session_code}/{relative}" for relative in valid.page_files}


def pages_copy(valid: ValidImport, stored: dict[str, str]) -> None:
    """Copy page scans under SCANS_ROOT (after the rows are written: a refused file
    copies nothing)."""
    root = Path(settings.SCANS_ROOT)
    for relative, source in valid.page_files.items():
        target = root / stored[relative]
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _initial_mark(rules: ExamRules, record: dict) -> Decimal | None:
    if record.get("special_mark") is not None:
        return None
    marks = record.get("marks") or {}
    if rules.kind == "marked":
        return sum((Decimal(str(marks[code])) for code in rules.leaves), Decimal(0))
    return Decimal(str(marks[GLOBAL_MARK]))


def _batches_sync(
    sync: RecordSync, data: dict, ids: ReferentialIds, touched: Touched
) -> dict[str, int]:
    def batch_changed(row: dict, record: dict) -> None:
        touched.add((row["exam_id"], row["academy_id"]))
        touched.add((record["exam_id"], record["academy_id"]))

    grader_academy = dict(
        User.objects.filter(pk__in=ids.user_ids.values()).values_list("id", "academy_id")
    )
    return sync.run(
        Batch,
        name="lots",
        key=lambda row: row["code"],
        key_fields=["code"],
        records=[
            {
                "code": r["code"],
                "exam_id": ids.exam_ids[r["exam"]],
                "grader_id": ids.user_ids[r["grader"]],
                "academy_id": grader_academy[ids.user_ids[r["grader"]]],
                "locked": r.get("locked", False),
            }
            for r in data.get("batches", [])
        ],
        fields=["exam_id", "grader_id", "academy_id", "locked"],
        on_update=batch_changed,
    )


@dataclass
class _ScriptSync:
    """Sync the scripts (R-TRUST-2): the `RecordSync` hooks and what they gather.

    For an existing script, the file's marking is compared with the fingerprint of what
    the last import brought and with the script's marking: unchanged in the file → the
    script is left as Harmonie holds it (edited or not); changed in the file and the
    script never edited → updated (delta kept, final mark recomputed, conformity
    cleared, version + 1); changed in the file and the script edited in Harmonie →
    a conflict, the whole import refused, unless `replace_edited`.
    """

    valid: ValidImport
    ids: ReferentialIds
    batch_ids: dict[str, int]
    report: ImportReport
    touched: Touched
    replace_edited: bool
    actor: User | None

    def __post_init__(self) -> None:
        exam_ids = self.ids.exam_ids
        self.exam_by_id = {
            pk: self.valid.exams[c] for c, pk in exam_ids.items() if c in self.valid.exams
        }
        self.exam_codes = {pk: code for code, pk in exam_ids.items()}
        self.subject_ids = {
            (exam, code): pk
            for pk, exam, code in Subject.objects.values_list("id", "exam_id", "code")
        }
        self.batch_rows = {
            row["id"]: row for row in Batch.objects.values("id", "grader_id", "locked")
        }
        # Scripts with saved versions (edited in Harmonie once): their last version number.
        self.history = dict(
            ScriptVersion.objects.order_by()
            .values("script_id")
            .annotate(last=Max("number"))
            .values_list("script_id", "last")
        )
        self.conflicts: list[tuple[dict, dict]] = []
        self.replacing: dict[int, tuple[dict, dict]] = {}
        self.versions: list[ScriptVersion] = []

    def records(self, pages: dict[str, str]) -> Iterator[dict]:
        ids = self.ids
        for r in self.valid.data["scripts"]:
            exam_id = ids.exam_ids[r["exam"]]
            rules = self.exam_by_id[exam_id]
            candidate = ids.candidate_rows[ids.candidate_ids[r["candidate"]]]
            batch_id = self.batch_ids[r["batch"]] if r.get("batch") else None
            batch = self.batch_rows[batch_id] if batch_id else None
            department = ids.school_department[candidate["school_id"]]
            initial = _initial_mark(rules, r)
            marks = r.get("marks") or {}
            special_mark = r.get("special_mark")
            annotations = r.get("annotations") or []
            yield {
                "public_id": r["id"],
                "exam_id": exam_id,
                "candidate_id": candidate["id"],
                "subject_id": self.subject_ids.get((exam_id, r.get("subject"))),
                "batch_id": batch_id,
                "academy_id": ids.department_academy[department],
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

    @staticmethod
    def _keep(row: dict, record: dict) -> None:
        for name in MARKING_FIELDS:
            record[name] = row[name]

    def compare(self, row: dict, record: dict) -> None:
        incoming = record["imported_fingerprint"]
        stored = row["imported_fingerprint"]
        if incoming == stored:
            # The file brings what the last import brought: Harmonie's marking stays.
            if not marking_same(row, record):
                self.report.kept_edited += 1
            self._keep(row, record)
            return
        if marking_same(row, record):
            # Harmonie already holds the file's marking: only the fingerprint moves.
            self._keep(row, record)
            return
        current = marking_state_fingerprint(row)
        # A row without fingerprint (not imported): edited once past its first version.
        edited = current != stored if stored is not None else row["version"] > 1
        if edited:
            if not self.replace_edited:
                self.conflicts.append((row, dict(record)))  # the file's marking, before keep
                self._keep(row, record)
                return
            self.replacing[row["id"]] = (row, record)
        # A new marking keeps the harmonisation in force (R-MARK-4).
        record["final_mark"] = final_mark_compute(
            initial=record["initial_mark"],
            delta=row["delta"],
            maximum=self.exam_by_id[record["exam_id"]].max_mark,
        )

    def _version(self, script_id: int, number: int, state: dict, **extra: object) -> None:
        self.versions.append(
            ScriptVersion(
                script_id=script_id,
                number=number,
                marks=state["marks"],
                special_mark=state["special_mark"],
                annotations=state["annotations"],
                initial_mark=state["initial_mark"],
                **extra,
            )
        )

    def changed(self, row: dict, record: dict) -> None:
        if any(row[name] != record[name] for name in MARKING_FIELDS):
            record["version"] = max(row["version"], self.history.get(row["id"], 0)) + 1
            record["final_marks"] = None
            if row["id"] in self.replacing and row["id"] not in self.history:
                # The marking as it stood before: kept as the script's first version.
                self._version(row["id"], row["version"], row, author=None)
            if row["id"] in self.replacing or row["id"] in self.history:
                # A script with a history keeps every marking it had, imports included.
                author = self.actor if getattr(self.actor, "pk", None) else None
                self._version(row["id"], record["version"], record, author=author, from_import=True)
        else:
            record["version"] = row["version"]
            record["final_marks"] = row["final_marks"]
        if any(row[name] != record[name] for name in SCRIPT_DATA_FIELDS):
            self.touched.add((row["exam_id"], row["academy_id"]))
            self.touched.add((record["exam_id"], record["academy_id"]))

    def created(self, record: dict) -> None:
        self.touched.add((record["exam_id"], record["academy_id"]))

    def refuse_conflicts(self) -> None:
        if self.conflicts:
            raise ImportConflict(
                conflicts_describe(
                    conflicts=self.conflicts, exam_codes=self.exam_codes, exams=self.exam_by_id
                )
            )

    def audit_replaced(self, *, file_name: str) -> None:
        if not self.replacing:
            return
        pairs = self.replacing.values()
        exams = Exam.objects.in_bulk({record["exam_id"] for _row, record in pairs})
        academies = Academy.objects.in_bulk({record["academy_id"] for _row, record in pairs})
        for row, record in sorted(pairs, key=lambda pair: pair[1]["public_id"]):
            audit_log(
                actor=self.actor,
                action="script.import_replaced",
                target_type="script",
                target_id=record["public_id"],
                exam=exams[record["exam_id"]],
                academy=academies[record["academy_id"]],
                before=marking_audit_state(row),
                after={**marking_audit_state(record), "file": file_name},
            )


def scripts_import(
    *,
    valid: ValidImport,
    ids: ReferentialIds,
    report: ImportReport,
    replace_edited: bool = False,
    actor: User | None = None,
    file_name: str,
) -> Touched:
    """Write the batches and scripts of a validated file once its referential part is
    synced (`ids`), in one transaction under the exam row lock (R-MASS-10).

    Raises ImportConflict, before any script is written, if the file would replace the
    marking of scripts edited in Harmonie and `replace_edited` is not given (R-TRUST-2).
    Each replaced marking is a script version with its `script.import_replaced` audit
    row; the page scans are copied under SCANS_ROOT last. Returns the (exam, academy) pairs whose scripts or batches changed: the caller
    bumps their marks versions.
    """
    with transaction.atomic():
        # The exam rows are the lock every mark-changing service takes first.
        exams_lock(codes=file_exam_codes(valid.data))
        touched: Touched = set()
        stored = pages_stored(valid)
        sync = RecordSync(report)
        batch_ids = _batches_sync(sync, valid.data, ids, touched)
        scripts = _ScriptSync(
            valid=valid,
            ids=ids,
            batch_ids=batch_ids,
            report=report,
            touched=touched,
            replace_edited=replace_edited,
            actor=actor,
        )
        sync.run(
            Script,
            name="copies",
            key=lambda row: row["public_id"],
            key_fields=["public_id"],
            records=scripts.records(stored),
            fields=SCRIPT_FIELDS,
            on_update=scripts.changed,
            extra_fields=("version", "final_marks"),
            read_only=("delta",),
            on_existing=scripts.compare,
            on_create=scripts.created,
            before_write=scripts.refuse_conflicts,
        )
        ScriptVersion.objects.bulk_create(scripts.versions, batch_size=BULK_SIZE)
        report.replaced = len(scripts.replacing)
        scripts.audit_replaced(file_name=file_name)
        pages_copy(valid, stored)
        return touched
