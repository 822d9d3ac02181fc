"""Deterministic synthetic exam session in the session file format (API.md §1).

Every random draw comes from one ``random.Random(seed)`` consumed in a fixed order, so the
same arguments always give a byte-identical file. Per-candidate facts that later sections
need (ability, attendance) are kept in compact arrays and records are produced lazily, so
that a 600,000-candidate session streams to disk in well under a gigabyte of memory.
"""

import json
import math
import unicodedata
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Literal, TextIO

FORMAT = "harmonie-session/1"
SESSION = {"code": "BAC2026", "label": "Baccalauréat 2026"}
# Demo and test data only: the importer hashes it, real deployments use the academy SSO.
DEMO_PASSWORD = "harmonie2026"  # noqa: S105
MARKED_EXAM = "FRA-ECRIT"
IMPORTED_EXAM = "PHILO-HO"
SUBJECTS = ("SUJET-A", "SUJET-B")
SCANS_FOLDER = "scans"
SCAN_POOL_SIZE = 200
BATCH_SIZE = 100
CANDIDATES_PER_SCHOOL = 300
CANDIDATES_PER_ACADEMY = 20_000
CLASS_GROUP_MAX = 35

ScanMode = Literal["all", "pool", "none"]

# Real academies and department codes; Corsica uses the 620/720 codes found in UAI numbers.
ACADEMIES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("NANCY-METZ", "Nancy-Metz", (("054", "Meurthe-et-Moselle"), ("055", "Meuse"), ("057", "Moselle"), ("088", "Vosges"))),
    ("STRASBOURG", "Strasbourg", (("067", "Bas-Rhin"), ("068", "Haut-Rhin"))),
    ("REIMS", "Reims", (("008", "Ardennes"), ("010", "Aube"), ("051", "Marne"), ("052", "Haute-Marne"))),
    ("LILLE", "Lille", (("059", "Nord"), ("062", "Pas-de-Calais"))),
    ("AMIENS", "Amiens", (("002", "Aisne"), ("060", "Oise"), ("080", "Somme"))),
    ("BESANCON", "Besançon", (("025", "Doubs"), ("039", "Jura"), ("070", "Haute-Saône"), ("090", "Territoire de Belfort"))),
    ("DIJON", "Dijon", (("021", "Côte-d'Or"), ("058", "Nièvre"), ("071", "Saône-et-Loire"), ("089", "Yonne"))),
    ("LYON", "Lyon", (("001", "Ain"), ("042", "Loire"), ("069", "Rhône"))),
    ("GRENOBLE", "Grenoble", (("007", "Ardèche"), ("026", "Drôme"), ("038", "Isère"), ("073", "Savoie"), ("074", "Haute-Savoie"))),
    ("CLERMONT-FERRAND", "Clermont-Ferrand", (("003", "Allier"), ("015", "Cantal"), ("043", "Haute-Loire"), ("063", "Puy-de-Dôme"))),
    ("PARIS", "Paris", (("075", "Paris"),)),
    ("CRETEIL", "Créteil", (("077", "Seine-et-Marne"), ("093", "Seine-Saint-Denis"), ("094", "Val-de-Marne"))),
    ("VERSAILLES", "Versailles", (("078", "Yvelines"), ("091", "Essonne"), ("092", "Hauts-de-Seine"), ("095", "Val-d'Oise"))),
    ("ORLEANS-TOURS", "Orléans-Tours", (("018", "Cher"), ("028", "Eure-et-Loir"), ("036", "Indre"), ("037", "Indre-et-Loire"), ("041", "Loir-et-Cher"), ("045", "Loiret"))),
    ("NORMANDIE", "Normandie", (("014", "Calvados"), ("027", "Eure"), ("050", "Manche"), ("061", "Orne"), ("076", "Seine-Maritime"))),
    ("RENNES", "Rennes", (("022", "Côtes-d'Armor"), ("029", "Finistère"), ("035", "Ille-et-Vilaine"), ("056", "Morbihan"))),
    ("NANTES", "Nantes", (("044", "Loire-Atlantique"), ("049", "Maine-et-Loire"), ("053", "Mayenne"), ("072", "Sarthe"), ("085", "Vendée"))),
    ("POITIERS", "Poitiers", (("016", "Charente"), ("017", "Charente-Maritime"), ("079", "Deux-Sèvres"), ("086", "Vienne"))),
    ("LIMOGES", "Limoges", (("019", "Corrèze"), ("023", "Creuse"), ("087", "Haute-Vienne"))),
    ("BORDEAUX", "Bordeaux", (("024", "Dordogne"), ("033", "Gironde"), ("040", "Landes"), ("047", "Lot-et-Garonne"), ("064", "Pyrénées-Atlantiques"))),
    ("TOULOUSE", "Toulouse", (("009", "Ariège"), ("012", "Aveyron"), ("031", "Haute-Garonne"), ("032", "Gers"), ("046", "Lot"), ("065", "Hautes-Pyrénées"), ("081", "Tarn"), ("082", "Tarn-et-Garonne"))),
    ("MONTPELLIER", "Montpellier", (("011", "Aude"), ("030", "Gard"), ("034", "Hérault"), ("048", "Lozère"), ("066", "Pyrénées-Orientales"))),
    ("AIX-MARSEILLE", "Aix-Marseille", (("004", "Alpes-de-Haute-Provence"), ("005", "Hautes-Alpes"), ("013", "Bouches-du-Rhône"), ("084", "Vaucluse"))),
    ("NICE", "Nice", (("006", "Alpes-Maritimes"), ("083", "Var"))),
    ("CORSE", "Corse", (("620", "Corse-du-Sud"), ("720", "Haute-Corse"))),
    ("GUADELOUPE", "Guadeloupe", (("971", "Guadeloupe"),)),
    ("MARTINIQUE", "Martinique", (("972", "Martinique"),)),
    ("GUYANE", "Guyane", (("973", "Guyane"),)),
    ("LA-REUNION", "La Réunion", (("974", "La Réunion"),)),
    ("MAYOTTE", "Mayotte", (("976", "Mayotte"),)),
)  # fmt: skip

# code, label, class-group prefix, effect on the mean mark (points on 20)
QUALIFICATIONS: tuple[tuple[str, str, str, float], ...] = (
    ("STMG", "Sciences et technologies du management et de la gestion", "STMG", -0.6),
    ("STI2D", "Sciences et technologies de l'industrie et du développement durable", "STI2D", -0.8),
    ("STL", "Sciences et technologies de laboratoire", "STL", -0.3),
    ("ST2S", "Sciences et technologies de la santé et du social", "ST2S", -0.4),
    ("STD2A", "Sciences et technologies du design et des arts appliqués", "STD2A", 0.2),
    ("STHR", "Sciences et technologies de l'hôtellerie et de la restauration", "STHR", -0.7),
    ("TMD", "Techniques de la musique et de la danse", "TMD", 0.4),
    ("S2TMD", "Sciences et techniques du théâtre, de la musique et de la danse", "S2TMD", 0.5),
    ("GEN", "Baccalauréat général", "G", 0.9),
)
_QUALIFICATION_INDEX = {code: index for index, (code, *_) in enumerate(QUALIFICATIONS)}

# Profile weight, then the mix of qualifications taught: most schools are general or
# technological, a few have the rare specialities (design, hotel, music and dance).
SCHOOL_PROFILES: tuple[tuple[float, tuple[tuple[str, float], ...]], ...] = (
    (0.50, (("GEN", 0.7), ("STMG", 0.3))),
    (0.30, (("STMG", 0.35), ("STI2D", 0.35), ("STL", 0.15), ("ST2S", 0.15))),
    (0.08, (("GEN", 0.5), ("STD2A", 0.3), ("STMG", 0.2))),
    (0.06, (("STHR", 0.7), ("STMG", 0.3))),
    (0.06, (("GEN", 0.6), ("TMD", 0.15), ("S2TMD", 0.25))),
)

SCHOOL_KINDS = (
    "Lycée",
    "Lycée polyvalent",
    "Lycée général et technologique",
    "Lycée technologique",
)
SCHOOL_NAMES = (
    "Jean Moulin", "Victor Hugo", "Marie Curie", "Louis Pasteur", "Jules Ferry", "Georges de La Tour",
    "Fabert", "Henri Poincaré", "Jean Zay", "Simone Veil", "Charlemagne", "Jeanne d'Arc", "Paul Verlaine",
    "Robert Schuman", "Claude Gellée", "Jacques Callot", "Jean Monnet", "Louis Vincent", "Condorcet",
    "Colbert", "Montesquieu", "Voltaire", "Gustave Eiffel", "Camille Claudel", "Albert Camus",
    "Jean Jaurès", "Émile Zola", "Pierre Mendès France", "Antoine de Saint-Exupéry", "Lavoisier",
    "Jules Verne", "George Sand", "Blaise Pascal", "René Cassin", "Marguerite Yourcenar", "Léonard de Vinci",
    "Jean Rostand", "Frédéric Chopin", "Alfred Mézières", "Cormontaigne", "Erckmann-Chatrian",
    "Stanislas", "Arthur Varoquaux", "Marie Marvingt", "Henri Loritz", "Charles de Gaulle",
    "Lucie Aubrac", "Olympe de Gouges", "Paul Éluard", "André Malraux", "Romain Rolland",
    "Jean-Baptiste Vatelot", "Hélène Boucher", "Édouard Branly", "Louise Michel", "Niki de Saint Phalle",
)  # fmt: skip
FIRST_NAMES = (
    "Sabrina", "Nicolas", "Julie", "Thomas", "Camille", "Sébastien", "Claire", "Mathieu", "Émilie", "Julien",
    "Céline", "François", "Sophie", "Olivier", "Nathalie", "Pierre", "Isabelle", "Laurent", "Aurélie",
    "Stéphane", "Hélène", "Benoît", "Caroline", "Jérôme", "Marion", "Christophe", "Anne", "Guillaume",
    "Sandrine", "Frédéric", "Élodie", "Vincent", "Valérie", "David", "Amandine", "Éric", "Delphine",
    "Yannick", "Karine", "Arnaud", "Laëtitia", "Cédric", "Virginie", "Fabien", "Muriel", "Rachid",
    "Fatima", "Kévin", "Agnès", "Hervé",
)  # fmt: skip
LAST_NAMES = (
    "Antonioli", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent",
    "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François",
    "Martinez", "Muller", "Schmitt", "Weber", "Klein", "Meyer", "Wagner", "Becker", "Hoffmann",
    "Schneider", "Zimmermann", "Marchal", "Colin", "Mathieu", "Gérard", "Claudel", "Humbert", "Thiébaut",
    "Jacquot", "Perrin", "Henry", "Le Gall", "Le Goff", "Ben Ahmed", "Nguyen", "Da Silva", "N'Diaye",
    "Rossi", "Kowalski", "Haddad", "Barthélémy",
)  # fmt: skip

# code, label, max, leaves as (code, label, max); the leaves add up to their part.
FRA_SCHEME: tuple[tuple[str, str, int, tuple[tuple[str, str, int], ...]], ...] = (
    ("P1", "Commentaire", 10, (("Q1", "Compréhension", 4), ("Q2", "Analyse", 6))),
    ("P2", "Dissertation", 10, (("P2A", "Argumentation", 6), ("P2B", "Expression", 4))),
)
_ATTENDANCE_VALUES = ("present", "absent", None, None)
# Attendance codes kept per candidate: the script follows from the code.
_PRESENT, _ABSENT, _UNRECORDED_WITH_SCRIPT, _UNRECORDED, _NOT_REGISTERED = 0, 1, 2, 3, 4
_WITH_SCRIPT = (_PRESENT, _UNRECORDED_WITH_SCRIPT)
_UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_MEAN_MARK = 10.7
_ABILITY_SD = 2.8
_SUBJECT_EFFECT = (0.0, -0.4)
# GRADER_OFFSETS: points a grader adds to every script he marks (before the leaves are
# rounded to the step and clamped), so that the grader effects (R-FAIR-1) have a known
# truth and the demo real flags. In each academy the third grader is severe (-3.5) and
# the fourth lenient (+3.5); every other grader is, with probability OUTLIER_SHARE,
# severe or lenient by the same 3.5 points, else ordinary with an offset drawn uniformly
# in [-1, +1]. Nobody sits near the 2-point tolerance: the flags are exactly the graders
# of ±3.5. `grader_offsets` replays them for given arguments.
SEVERE_OFFSET = -3.5
LENIENT_OFFSET = 3.5
ORDINARY_OFFSET = 1.0
OUTLIER_SHARE = 0.05
_RECORDS_PER_WRITE = 2000


@dataclass(frozen=True)
class SessionSummary:
    """What a generated session holds, for the command's report and the scan writer."""

    candidates: int
    scripts: int
    batches: int
    academies: int
    schools: int
    graders: int
    scan_names: tuple[str, ...]


@dataclass
class _School:
    uai: str
    label: str
    department: str
    jury: str
    academy: int
    # code, qualification index, registered for the imported exam, size
    class_groups: list[tuple[str, int, bool, int]]


@dataclass
class _Grader:
    username: str
    first_name: str
    last_name: str
    academy: int
    bias: float


@dataclass
class _Batch:
    code: str
    academy: int
    grader: int
    size: int
    locked: bool


@dataclass
class _Plan:
    academies: list[tuple[str, str, tuple[tuple[str, str], ...]]]
    schools: list[_School]
    juries: list[tuple[str, int]]
    staff: list[list[dict[str, Any]]]
    graders: list[_Grader]
    batches: list[_Batch]
    candidate_ranges: list[tuple[int, int]]
    number_factor: int
    number_offset: int
    frauds: set[int]
    ability: array
    marked_attendance: bytearray
    imported_attendance: bytearray


def scan_path(*, name: str) -> str:
    """Path of a scan file relative to the session file."""
    return f"{SCANS_FOLDER}/{name}.pdf"


def session_write(
    *,
    stream: TextIO,
    candidates: int,
    seed: int,
    scans: ScanMode = "none",
    scan_pool: int = SCAN_POOL_SIZE,
) -> SessionSummary:
    """Stream a synthetic session as compact JSON, one record per line."""
    summary, sections = _session_sections(
        candidates=candidates, seed=seed, scans=scans, scan_pool=scan_pool
    )
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    stream.write("{")
    for position, (key, value) in enumerate(sections):
        stream.write(("," if position else "") + encode(key) + ":")
        if not isinstance(value, Iterator):
            stream.write(encode(value))
            continue
        stream.write("[")
        chunk: list[str] = []
        first = True
        for record in value:
            chunk.append(encode(record))
            if len(chunk) == _RECORDS_PER_WRITE:
                stream.write(("," if not first else "") + "\n" + ",\n".join(chunk))
                chunk, first = [], False
        if chunk:
            stream.write(("," if not first else "") + "\n" + ",\n".join(chunk))
        stream.write("\n]")
    stream.write("}\n")
    return summary


def session_generate(
    *, candidates: int, seed: int, scans: ScanMode = "none", scan_pool: int = SCAN_POOL_SIZE
) -> dict[str, Any]:
    """The same session as `session_write`, held in memory (for small sessions and tests)."""
    _, sections = _session_sections(
        candidates=candidates, seed=seed, scans=scans, scan_pool=scan_pool
    )
    return {key: list(value) if isinstance(value, Iterator) else value for key, value in sections}


def academy_count(*, candidates: int) -> int:
    """Academies scale with the population: about one per 20,000 candidates, 2 to 30."""
    return max(2, min(len(ACADEMIES), candidates // CANDIDATES_PER_ACADEMY + 1))


def _session_sections(
    *, candidates: int, seed: int, scans: ScanMode, scan_pool: int
) -> tuple[SessionSummary, list[tuple[str, Any]]]:
    if candidates < 1:
        raise ValueError("Il faut au moins un candidat.")
    if scan_pool < 1:
        raise ValueError("La réserve de scans doit compter au moins un fichier.")
    rng = Random(seed)
    plan = _plan_draw(rng, candidates=candidates)
    marked_scripts = sum(1 for code in plan.marked_attendance if code in _WITH_SCRIPT)
    imported_scripts = sum(1 for code in plan.imported_attendance if code in _WITH_SCRIPT)
    if scans == "all":
        scan_names = tuple(f"S-{number:06d}" for number in range(1, marked_scripts + 1))
    elif scans == "pool":
        scan_names = tuple(f"pool-{number:04d}" for number in range(1, scan_pool + 1))
    else:
        scan_names = ()
    summary = SessionSummary(
        candidates=candidates,
        scripts=marked_scripts + imported_scripts,
        batches=len(plan.batches),
        academies=len(plan.academies),
        schools=len(plan.schools),
        graders=len(plan.graders),
        scan_names=scan_names,
    )
    sections: list[tuple[str, Any]] = [
        ("format", FORMAT),
        ("session", SESSION),
        ("academies", iter([{"code": code, "label": label} for code, label, _ in plan.academies])),
        ("departments", iter(_department_records(plan))),
        ("schools", iter(_school_records(plan))),
        ("qualifications", iter([{"code": q[0], "label": q[1]} for q in QUALIFICATIONS])),
        (
            "juries",
            iter([{"code": code, "academy": plan.academies[a][0]} for code, a in plan.juries]),
        ),
        ("users", iter(_user_records(plan))),
        ("exams", iter(_exam_records())),
        ("candidates", _candidate_records(plan)),
        ("registrations", _registration_records(plan)),
        ("batches", _batch_records(plan)),
        ("scripts", _script_records(plan, rng, scans=scans, scan_pool=scan_pool)),
    ]
    return summary, sections


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder split of `total` in proportion to `weights` (ties by position)."""
    weight_sum = sum(weights)
    quotas = [total * weight / weight_sum for weight in weights]
    counts = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda i: (counts[i] - quotas[i], i))
    for index in by_remainder[: total - sum(counts)]:
        counts[index] += 1
    return counts


def _ascii_lower(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "-"))


def _uai(department: str, serial: int) -> str:
    digits = f"{department}{serial:04d}"
    return digits + _UAI_LETTERS[int(digits) % len(_UAI_LETTERS)]


def _person(rng: Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _plan_draw(rng: Random, *, candidates: int) -> _Plan:
    academies = list(ACADEMIES[: academy_count(candidates=candidates)])
    departments = [(a, code) for a, (_, _, depts) in enumerate(academies) for code, _ in depts]
    school_count = max(candidates // CANDIDATES_PER_SCHOOL, 2 * len(departments))
    # Each academy weighs about the same; its departments share that weight unevenly.
    department_weights = [rng.uniform(0.6, 1.4) / len(academies[a][2]) for a, _ in departments]
    schools_per_department = [
        2 + extra for extra in _split(school_count - 2 * len(departments), department_weights)
    ]
    school_weights = [rng.uniform(0.5, 1.5) for _ in range(school_count)]
    school_sizes = _split(candidates, school_weights)
    school_labels = [f"{kind} {name}" for name in SCHOOL_NAMES for kind in SCHOOL_KINDS]

    schools: list[_School] = []
    juries: list[tuple[str, int]] = []
    for (academy, department), count in zip(departments, schools_per_department, strict=True):
        jury_count = max(2, min(9, count // 5))
        juries.extend((f"J{department}-{k:02d}", academy) for k in range(1, jury_count + 1))
        serials = sorted(rng.sample(range(1, 10_000), count))
        labels = rng.sample(school_labels, min(count, len(school_labels)))
        for position, serial in enumerate(serials):
            label = labels[position % len(labels)]
            if position >= len(labels):
                label = f"{label} {position // len(labels) + 1}"
            schools.append(
                _School(
                    uai=_uai(department, serial),
                    label=label,
                    department=department,
                    jury=f"J{department}-{position % jury_count + 1:02d}",
                    academy=academy,
                    class_groups=[],
                )
            )
    for school, size in zip(schools, school_sizes, strict=True):
        school.class_groups = _class_groups_draw(rng, size=size)

    candidate_ranges: list[tuple[int, int]] = []
    start = 0
    for academy in range(len(academies)):
        end = start + sum(
            size for s, size in zip(schools, school_sizes, strict=True) if s.academy == academy
        )
        candidate_ranges.append((start, end))
        start = end

    ability, marked_attendance, imported_attendance = _candidates_draw(rng, schools=schools)
    fraud_count = max(1 if candidates >= 300 else 0, round(candidates / 1000))
    frauds = set(rng.sample(range(candidates), fraud_count))
    _demo_academy_settle(
        frauds=frauds, imported_attendance=imported_attendance, demo_range=candidate_ranges[0]
    )
    number_factor = rng.randrange(10**9, 10**10) | 1
    while number_factor % 5 == 0:
        number_factor += 2
    number_offset = rng.randrange(10**10)

    staff = _staff_draw(rng, academies=academies, schools=schools, frauds=frauds)
    graders, batches = _grading_draw(
        rng,
        academies=academies,
        candidate_ranges=candidate_ranges,
        marked_attendance=marked_attendance,
    )
    return _Plan(
        academies=academies,
        schools=schools,
        juries=juries,
        staff=staff,
        graders=graders,
        batches=batches,
        candidate_ranges=candidate_ranges,
        number_factor=number_factor,
        number_offset=number_offset,
        frauds=frauds,
        ability=ability,
        marked_attendance=marked_attendance,
        imported_attendance=imported_attendance,
    )


def _demo_academy_settle(
    *, frauds: set[int], imported_attendance: bytearray, demo_range: tuple[int, int]
) -> None:
    """What the demo academy (the first one, NANCY-METZ) must show, without any draw.

    Nothing here consumes the random stream, so every other draw (graders' offsets, marks)
    is the same as without it. In the demo academy the harmonisation-only exam is fully
    settled: a candidate without attendance record and without script is recorded absent,
    so that its validation is a full transmission (R-VAL-2). And the academy has a fraud
    case whenever the session has one (R-VAL-8): the first fraud moves into it, onto a
    candidate picked by arithmetic.
    """
    start, end = demo_range
    for index in range(start, end):
        if imported_attendance[index] == _UNRECORDED:
            imported_attendance[index] = _ABSENT
    if frauds and end > start and not any(start <= index < end for index in frauds):
        first = min(frauds)
        frauds.discard(first)
        frauds.add(start + first % (end - start))


def _candidates_draw(rng: Random, *, schools: list[_School]) -> tuple[array, bytearray, bytearray]:
    """Per candidate, in file order: ability (mark on 20 before grading), attendances.

    Compact arrays rather than records: later sections (batches, scripts) need these
    facts for every candidate, and 600,000 dictionaries would not fit the memory budget.
    """
    school_effects = [rng.gauss(0.0, 0.8) for _ in schools]
    ability = array("f")
    marked_attendance = bytearray()
    imported_attendance = bytearray()
    for school, effect in zip(schools, school_effects, strict=True):
        for _, qualification, imported, size in school.class_groups:
            mean = _MEAN_MARK + effect + QUALIFICATIONS[qualification][3]
            for _ in range(size):
                ability.append(rng.gauss(mean, _ABILITY_SD))
                marked_attendance.append(_attendance_draw(rng))
                imported_attendance.append(_attendance_draw(rng) if imported else _NOT_REGISTERED)
    return ability, marked_attendance, imported_attendance


def _class_groups_draw(rng: Random, *, size: int) -> list[tuple[str, int, bool, int]]:
    profile_weights = [weight for weight, _ in SCHOOL_PROFILES]
    mix = rng.choices(SCHOOL_PROFILES, weights=profile_weights)[0][1]
    groups: list[tuple[str, int, bool, int]] = []
    numbering: dict[str, int] = {}
    for (code, _), count in zip(mix, _split(size, [w for _, w in mix]), strict=True):
        if count == 0:
            continue
        qualification = _QUALIFICATION_INDEX[code]
        for group_size in _split(count, [1.0] * math.ceil(count / CLASS_GROUP_MAX)):
            # A third of the groups are final-year classes, who also sit the imported exam.
            final_year = rng.random() < 1 / 3
            prefix = ("T" if final_year else "1") + QUALIFICATIONS[qualification][2]
            numbering[prefix] = numbering.get(prefix, 0) + 1
            groups.append((f"{prefix}{numbering[prefix]}", qualification, final_year, group_size))
    return groups


def _attendance_draw(rng: Random) -> int:
    draw = rng.random()
    if draw < 0.96:
        return _PRESENT
    if draw < 0.99:
        return _ABSENT
    return _UNRECORDED_WITH_SCRIPT if rng.random() < 0.5 else _UNRECORDED


def _staff_draw(
    rng: Random,
    *,
    academies: list[tuple[str, str, tuple[tuple[str, str], ...]]],
    schools: list[_School],
    frauds: set[int],
) -> list[list[dict[str, Any]]]:
    """Per academy: its demo accounts, then its school accounts.

    Two school accounts have a password, and a third one when none of them has a fraud case
    (R-VAL-8): the first school of the academy that has one.
    """
    fraud_schools: set[str] = set()
    start = 0
    for school in schools:
        end = start + sum(size for *_, size in school.class_groups)
        if any(start <= index < end for index in frauds):
            fraud_schools.add(school.uai)
        start = end
    staff: list[list[dict[str, Any]]] = []
    for academy, (code, _, _) in enumerate(academies):
        accounts: list[dict[str, Any]] = []
        staff.append(accounts)
        suffix = code.lower()
        roles = (
            ("coord", "academic_coordinator", ()),
            ("membre", "harmonisation_member", (MARKED_EXAM,)),
            ("membre2", "harmonisation_member", ()),
            ("dec", "exam_officer", ()),
        )
        for prefix, role, missions in roles:
            accounts.append(
                _user(
                    username=f"{prefix}.{suffix}",
                    person=_person(rng),
                    role=role,
                    academy=code,
                    missions=missions,
                    password=DEMO_PASSWORD,
                )
            )
        own_schools = [school for school in schools if school.academy == academy]
        with_password = {school.uai for school in own_schools[:2]}
        if not with_password & fraud_schools:
            first_fraud = next((s.uai for s in own_schools if s.uai in fraud_schools), None)
            with_password |= {first_fraud} if first_fraud else set()
        for school in own_schools:
            accounts.append(
                _user(
                    username=f"etab.{school.uai.lower()}",
                    person=_person(rng),
                    role="school",
                    academy=code,
                    school=school.uai,
                    password=DEMO_PASSWORD if school.uai in with_password else None,
                )
            )
    return staff


def _user(
    *,
    username: str,
    person: tuple[str, str],
    role: str,
    academy: str,
    school: str | None = None,
    missions: Sequence[str] = (),
    password: str | None = None,
) -> dict[str, Any]:
    first_name, last_name = person
    record: dict[str, Any] = {
        "username": username, "first_name": first_name, "last_name": last_name, "role": role,
        "academy": academy, "school": school, "missions": list(missions),
    }  # fmt: skip
    if password is not None:
        record["password"] = password
    return record


def _grader_offset_draw(rng: Random, *, position: int) -> float:
    """A grader's documented offset (see `GRADER_OFFSETS`)."""
    if position == 2:
        return SEVERE_OFFSET
    if position == 3:
        return LENIENT_OFFSET
    if rng.random() < OUTLIER_SHARE:
        return rng.choice((SEVERE_OFFSET, LENIENT_OFFSET))
    return rng.uniform(-ORDINARY_OFFSET, ORDINARY_OFFSET)


def grader_offsets(*, candidates: int, seed: int) -> dict[str, float]:
    """Every grader's offset in the session of these arguments (R-FAIR-1's known truth)."""
    plan = _plan_draw(Random(seed), candidates=candidates)
    return {grader.username: grader.bias for grader in plan.graders}


def _grading_draw(
    rng: Random,
    *,
    academies: list[tuple[str, str, tuple[tuple[str, str], ...]]],
    candidate_ranges: list[tuple[int, int]],
    marked_attendance: bytearray,
) -> tuple[list[_Grader], list[_Batch]]:
    """Batches of ~100 scripts per academy, two batches per grader of that academy."""
    graders: list[_Grader] = []
    batches: list[_Batch] = []
    username_counts: dict[str, int] = {}
    for academy, (start, end) in enumerate(candidate_ranges):
        scripts = sum(1 for code in marked_attendance[start:end] if code in _WITH_SCRIPT)
        batch_count = math.ceil(scripts / BATCH_SIZE)
        grader_count = max(min(batch_count, 2), math.ceil(batch_count / 2))
        first_grader = len(graders)
        for position in range(grader_count):
            first, last = _person(rng)
            base = _ascii_lower(last)
            username_counts[base] = username_counts.get(base, 0) + 1
            bias = _grader_offset_draw(rng, position=position)
            graders.append(
                _Grader(f"corr.{base}.{username_counts[base]}", first, last, academy, bias)
            )
        for position, size in enumerate(_split(scripts, [1.0] * batch_count)):
            batches.append(
                _Batch(
                    code=f"L-{len(batches) + 1:06d}",
                    academy=academy,
                    grader=first_grader + position % grader_count,
                    size=size,
                    locked=rng.random() < 0.9,
                )
            )
    if len(batches) >= 3 and all(batch.locked for batch in batches):
        batches[rng.randrange(len(batches))].locked = False
    return graders, batches


def _department_records(plan: _Plan) -> list[dict[str, str]]:
    return [
        {"code": code, "label": label, "academy": academy_code}
        for academy_code, _, departments in plan.academies
        for code, label in departments
    ]


def _school_records(plan: _Plan) -> list[dict[str, str]]:
    return [{"uai": s.uai, "label": s.label, "department": s.department} for s in plan.schools]


def _user_records(plan: _Plan) -> list[dict[str, Any]]:
    """Per academy: its staff and school accounts, then its graders."""
    users: list[dict[str, Any]] = []
    for academy, (code, _, _) in enumerate(plan.academies):
        users.extend(plan.staff[academy])
        own_graders = [grader for grader in plan.graders if grader.academy == academy]
        for position, grader in enumerate(own_graders):
            users.append(
                _user(
                    username=grader.username,
                    person=(grader.first_name, grader.last_name),
                    role="grader",
                    academy=code,
                    password=DEMO_PASSWORD if position < 2 else None,
                )
            )
    return users


def _exam_records() -> list[dict[str, Any]]:
    scheme = [
        {
            "code": code,
            "label": label,
            "max": maximum,
            "children": [{"code": c, "label": lab, "max": m} for c, lab, m in leaves],
        }
        for code, label, maximum, leaves in FRA_SCHEME
    ]
    return [
        {
            "code": MARKED_EXAM, "label": "Écrit de français, toutes séries", "kind": "marked",
            "max_mark": 20, "step": 0.5, "special_marks": ["AB", "CB"], "scheme": scheme,
            "subjects": list(SUBJECTS),
        },
        {
            "code": IMPORTED_EXAM, "label": "Philosophie (notes importées)",
            "kind": "harmonisation_only", "max_mark": 20, "step": 0.5,
            "special_marks": ["AB", "CB"], "scheme": [], "subjects": [],
        },
    ]  # fmt: skip


def _candidate_number(plan: _Plan, index: int) -> str:
    # An affine map with a factor prime to 10 is a bijection on 10-digit numbers: unique
    # numbers without keeping a set of them.
    return f"{(plan.number_factor * index + plan.number_offset) % 10**10:010d}"


def _candidate_records(plan: _Plan) -> Iterator[dict[str, Any]]:
    index = 0
    for school in plan.schools:
        for class_group, qualification, _, size in school.class_groups:
            for _ in range(size):
                yield {
                    "number": _candidate_number(plan, index),
                    "school": school.uai,
                    "class_group": class_group,
                    "qualification": QUALIFICATIONS[qualification][0],
                    "jury": school.jury,
                    "fraud": index in plan.frauds,
                }
                index += 1


def _registration_records(plan: _Plan) -> Iterator[dict[str, Any]]:
    for index, marked in enumerate(plan.marked_attendance):
        number = _candidate_number(plan, index)
        yield {"candidate": number, "exam": MARKED_EXAM, "attendance": _ATTENDANCE_VALUES[marked]}
        imported = plan.imported_attendance[index]
        if imported != _NOT_REGISTERED:
            yield {
                "candidate": number,
                "exam": IMPORTED_EXAM,
                "attendance": _ATTENDANCE_VALUES[imported],
            }


def _batch_records(plan: _Plan) -> Iterator[dict[str, Any]]:
    for batch in plan.batches:
        grader = plan.graders[batch.grader].username
        yield {"code": batch.code, "exam": MARKED_EXAM, "grader": grader, "locked": batch.locked}


def _half_points(doubled: int) -> int | float:
    """A mark on the 0.5 step, written as an integer when it is one (4, not 4.0)."""
    return doubled // 2 if doubled % 2 == 0 else doubled / 2


def _on_step(value: float, maximum: int) -> int | float:
    return _half_points(min(max(round(value * 2), 0), 2 * maximum))


def _script_records(
    plan: _Plan, rng: Random, *, scans: ScanMode, scan_pool: int
) -> Iterator[dict[str, Any]]:
    """Marked-exam scripts batch by batch, then the imported exam's global marks."""
    number = 0
    for academy, (start, end) in enumerate(plan.candidate_ranges):
        # Batches mix the academy's schools, as anonymous marking does.
        pending = [i for i in range(start, end) if plan.marked_attendance[i] in _WITH_SCRIPT]
        rng.shuffle(pending)
        taken = 0
        for batch in (batch for batch in plan.batches if batch.academy == academy):
            bias = plan.graders[batch.grader].bias
            for index in pending[taken : taken + batch.size]:
                number += 1
                script_id = f"S-{number:06d}"
                subject = rng.randrange(2)
                blank = rng.random() < 0.01
                # Drawn in every mode so that the marks depend neither on the mode nor on
                # the pool size.
                pool_draw = rng.random()
                record: dict[str, Any] = {
                    "id": script_id,
                    "candidate": _candidate_number(plan, index),
                    "exam": MARKED_EXAM,
                    "subject": SUBJECTS[subject],
                    "batch": batch.code,
                    "marks": {},
                    "special_mark": "CB" if blank else None,
                }
                level = plan.ability[index] + bias + _SUBJECT_EFFECT[subject]
                # Candidates are better at one of the two parts.
                part_gap = rng.gauss(0.0, 1.0)
                if not blank:
                    for part, (_, _, _, leaves) in enumerate(FRA_SCHEME):
                        part_level = (level + (part_gap if part == 0 else -part_gap)) / 20
                        for code, _, maximum in leaves:
                            share = part_level + rng.gauss(0.0, 0.07)
                            record["marks"][code] = _on_step(share * maximum, maximum)
                if scans == "all":
                    record["pages"] = [scan_path(name=script_id)]
                elif scans == "pool":
                    record["pages"] = [scan_path(name=f"pool-{int(pool_draw * scan_pool) + 1:04d}")]
                yield record
            taken += batch.size
    for index, code in enumerate(plan.imported_attendance):
        if code not in _WITH_SCRIPT:
            continue
        number += 1
        blank = rng.random() < 0.01
        # Imported marks agree only loosely with the French paper: another subject.
        mark = _MEAN_MARK + 0.6 * (plan.ability[index] - _MEAN_MARK) + rng.gauss(0.0, 2.6)
        yield {
            "id": f"S-{number:06d}",
            "candidate": _candidate_number(plan, index),
            "exam": IMPORTED_EXAM,
            "subject": None,
            "batch": None,
            "marks": {} if blank else {"global": _on_step(mark, 20)},
            "special_mark": "CB" if blank else None,
        }
