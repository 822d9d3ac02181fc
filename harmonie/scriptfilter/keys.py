"""The one table of the script filter's keys (API.md §2, R-UNIT-3, R-MASS-4, R-MASS-4b).

Every use of a key reads its row here: parsing and its French messages, the SQL filter,
the numpy mask of scenarios, the linked options, the labels and the scenario blocks of
each kind of exam. Adding a list key is one `ListKey` row (and, if a page shows it, the
form widget). Related models are named by their label and resolved with
`django.apps.get_model`, so this layer imports no app above it.
"""

from dataclasses import dataclass
from typing import Any

from django.apps import apps

from harmonie.referential.models import ExamKind

MARKED = ExamKind.MARKED.value
HARMONISATION_ONLY = ExamKind.HARMONISATION_ONLY.value
BOTH = frozenset({MARKED, HARMONISATION_ONLY})

# How an option of the linked lists is labelled: its natural key, « code label », or the
# person's « first last » name.
CODE, CODE_LABEL, PERSON = "code", "code_label", "person"


@dataclass(frozen=True)
class FilterKey:
    """What every key has: its name in API.md, its French label (history, statistics,
    minutes), and the kinds of exam whose scenarios may use it (R-MASS-4)."""

    name: str
    label: str
    scenario_kinds: frozenset[str]


@dataclass(frozen=True)
class ListKey(FilterKey):
    """A list of natural keys (OR inside the key, AND across keys).

    `column` is the Script foreign key; `model` and `natural` the related row and its
    natural-key field; `field_label` the label of the page widgets; `unknown` the
    « X « value » inconnu(e) » message; `nouns` the singular and plural in a sentence.
    `exam_field` scopes the natural key to the exam when it is unique per exam only.
    `known_model`/`known_field`/`known_academy`/`known_exam`: the small table that says
    which values exist in an academy (for academy staff, instead of scanning scripts).
    """

    column: str = ""
    model: str = ""
    natural: str = ""
    field_label: str = ""
    unknown: str = ""
    nouns: tuple[str, str] = ("", "")
    option_label: str = CODE
    exam_field: str | None = None
    known_model: str | None = None
    known_field: str | None = None
    known_academy: str | None = None
    known_exam: bool = False

    @property
    def lookup(self) -> str:
        """The ORM lookup of the natural key from a Script, e.g. `department__code`."""
        return f"{self.column.removesuffix('_id')}__{self.natural}"

    def related(self) -> Any:
        """The related model class (`referential.Department`, `marking.Batch`...)."""
        return apps.get_model(self.model)

    def known_table(self) -> tuple[Any, str]:
        """The model and value field answering « which values exist » for an academy."""
        return apps.get_model(self.known_model or self.model), self.known_field or self.natural


LIST_TABLE: tuple[ListKey, ...] = (
    ListKey(
        name="departments",
        label="Départements",
        field_label="Départements",
        scenario_kinds=frozenset({HARMONISATION_ONLY}),
        column="department_id",
        model="referential.Department",
        natural="code",
        unknown="Département « {} » inconnu",
        nouns=("département", "départements"),
        option_label=CODE_LABEL,
        known_academy="academy_id",
    ),
    ListKey(
        name="schools",
        label="Établissements",
        field_label="Établissements",
        scenario_kinds=frozenset({HARMONISATION_ONLY}),
        column="school_id",
        model="referential.School",
        natural="uai",
        unknown="Établissement « {} » inconnu",
        nouns=("établissement", "établissements"),
        option_label=CODE_LABEL,
        known_academy="department__academy_id",
    ),
    ListKey(
        name="class_groups",
        label="Divisions de classe",
        field_label="Divisions de classe",
        scenario_kinds=frozenset({HARMONISATION_ONLY}),
        column="class_group_id",
        model="referential.ClassGroup",
        natural="code",
        unknown="Division de classe « {} » inconnue",
        nouns=("division", "divisions"),
        known_academy="school__department__academy_id",
    ),
    ListKey(
        name="qualifications",
        label="Qualifications",
        field_label="Qualifications présentées",
        scenario_kinds=BOTH,
        column="qualification_id",
        model="referential.Qualification",
        natural="code",
        unknown="Qualification « {} » inconnue",
        nouns=("qualification", "qualifications"),
        option_label=CODE_LABEL,
    ),
    ListKey(
        name="juries",
        label="Jurys",
        field_label="Jurys",
        scenario_kinds=BOTH,
        column="jury_id",
        model="referential.Jury",
        natural="code",
        unknown="Jury « {} » inconnu",
        nouns=("jury", "jurys"),
        known_academy="academy_id",
    ),
    ListKey(
        name="graders",
        label="Correcteurs",
        field_label="Correcteurs",
        scenario_kinds=frozenset({MARKED}),
        column="grader_id",
        model="accounts.User",
        natural="username",
        unknown="Correcteur « {} » inconnu",
        nouns=("correcteur", "correcteurs"),
        option_label=PERSON,
        # A grader exists for an academy when one of its batches of the exam is theirs.
        known_model="marking.Batch",
        known_field="grader__username",
        known_academy="academy_id",
        known_exam=True,
    ),
    ListKey(
        name="batches",
        label="Lots",
        field_label="Lots",
        scenario_kinds=frozenset({MARKED}),
        column="batch_id",
        model="marking.Batch",
        natural="code",
        unknown="Lot « {} » inconnu",
        nouns=("lot", "lots"),
        exam_field="exam",
        known_academy="academy_id",
        known_exam=True,
    ),
    ListKey(
        name="subjects",
        label="Sujets",
        field_label="Sujets",
        scenario_kinds=frozenset(),
        column="subject_id",
        model="referential.Subject",
        natural="code",
        unknown="Sujet « {} » inconnu",
        nouns=("sujet", "sujets"),
        exam_field="exam",
        known_exam=True,
    ),
)

MARK_TABLE: tuple[FilterKey, ...] = (
    FilterKey(name="mark_min", label="Note min.", scenario_kinds=BOTH),
    FilterKey(name="mark_max", label="Note max.", scenario_kinds=BOTH),
    # A part's mark needs a scheme: harmonisation-only exams have none (R-MASS-4b).
    FilterKey(name="mark_part", label="Partie", scenario_kinds=frozenset({MARKED})),
)

LIST_KEYS: tuple[str, ...] = tuple(key.name for key in LIST_TABLE)
MARK_KEYS: tuple[str, ...] = tuple(key.name for key in MARK_TABLE)
FILTER_KEYS: tuple[str, ...] = LIST_KEYS + MARK_KEYS
LISTS: dict[str, ListKey] = {key.name: key for key in LIST_TABLE}
KEYS: dict[str, FilterKey] = {key.name: key for key in (*LIST_TABLE, *MARK_TABLE)}
LABELS: dict[str, str] = {name: key.label for name, key in KEYS.items()}


def scenario_filter_keys(*, kind: str) -> tuple[str, ...]:
    """The keys a scenario of this kind of exam may use, in the table's order (R-MASS-4)."""
    return tuple(name for name, key in KEYS.items() if kind in key.scenario_kinds)
