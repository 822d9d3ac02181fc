"""Synthetic session generator: determinism, the session file format, realistic data."""

import io
import json
import re
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pypdfium2
import pytest
from django.core.management import call_command

from harmonie.marking.session_file import KnownScripts, session_file_check
from harmonie.referential.generator import (
    DEMO_PASSWORD,
    academy_count,
    session_generate,
    session_write,
)
from harmonie.referential.scans import scan_render, scans_write
from harmonie.referential.session_file import KnownKeys

CANDIDATES = 2000
SEED = 7
LEAVES = {"Q1": 4, "Q2": 6, "P2A": 6, "P2B": 4}


@pytest.fixture(scope="module")
def session() -> dict:
    return session_generate(candidates=CANDIDATES, seed=SEED)


@pytest.fixture(scope="module")
def marked_scripts(session: dict) -> list[dict]:
    return [s for s in session["scripts"] if s["exam"] == "FRA-ECRIT"]


def _written(**arguments: object) -> str:
    stream = io.StringIO()
    session_write(stream=stream, **arguments)
    return stream.getvalue()


def test_same_seed_gives_byte_identical_file() -> None:
    first = _written(candidates=500, seed=3, scans="pool")
    assert first == _written(candidates=500, seed=3, scans="pool")
    assert json.loads(first) == session_generate(candidates=500, seed=3, scans="pool")


def test_different_seed_gives_different_file() -> None:
    assert _written(candidates=500, seed=3) != _written(candidates=500, seed=4)


def test_marks_do_not_depend_on_scan_mode() -> None:
    without = session_generate(candidates=400, seed=5, scans="none")["scripts"]
    pooled = session_generate(candidates=400, seed=5, scans="pool", scan_pool=7)["scripts"]
    assert [s["marks"] for s in without] == [s["marks"] for s in pooled]
    pages = {s["pages"][0] for s in pooled if s["exam"] == "FRA-ECRIT"}
    assert pages <= {f"scans/pool-{k:04d}.pdf" for k in range(1, 8)}
    assert all("pages" not in s for s in without)


def test_format_sections_and_key_order(session: dict) -> None:
    """API.md §1: sections and record keys in the documented order."""
    assert list(session) == [
        "format", "session", "academies", "departments", "schools", "qualifications",
        "juries", "users", "exams", "candidates", "registrations", "batches", "scripts",
    ]  # fmt: skip
    assert session["format"] == "harmonie-session/1"
    assert session["session"] == {"code": "BAC2026", "label": "Baccalauréat 2026"}
    assert list(session["schools"][0]) == ["uai", "label", "department"]
    assert list(session["users"][0])[:7] == [
        "username", "first_name", "last_name", "role", "academy", "school", "missions",
    ]  # fmt: skip
    assert list(session["candidates"][0]) == [
        "number", "school", "class_group", "qualification", "jury", "fraud",
    ]  # fmt: skip
    assert list(session["registrations"][0]) == ["candidate", "exam", "attendance"]
    assert list(session["batches"][0]) == ["code", "exam", "grader", "locked"]
    assert list(session["scripts"][0]) == [
        "id", "candidate", "exam", "subject", "batch", "marks", "special_mark",
    ]  # fmt: skip


def test_whole_marks_are_written_as_integers() -> None:
    text = _written(candidates=300, seed=1)
    assert not re.search(r":-?\d+\.0[,}]", text)
    assert re.search(r'"Q1":\d\.5[,}]', text)


def test_generated_session_passes_import_validation() -> None:
    """API.md §1: the importer's validation accepts the file as a whole."""
    for candidates in (1, 37, 1200):
        data = session_generate(candidates=candidates, seed=2)
        session_file_check(
            data=data, base_dir=Path("."), known=KnownKeys(), known_scripts=KnownScripts()
        )


def test_academies_scale_with_candidates(session: dict) -> None:
    assert [academy_count(candidates=n) for n in (1, 19_999, 20_000, 600_000, 10**7)] == [
        2, 2, 2, 30, 30,
    ]  # fmt: skip
    assert academy_count(candidates=40_000) == 3
    assert [a["code"] for a in session["academies"]] == ["NANCY-METZ", "STRASBOURG"]
    nancy_metz = [d["code"] for d in session["departments"] if d["academy"] == "NANCY-METZ"]
    assert nancy_metz == ["054", "055", "057", "088"]


def test_schools_have_uai_codes_of_their_department(session: dict) -> None:
    per_department = Counter(s["department"] for s in session["schools"])
    assert min(per_department.values()) >= 2
    for school in session["schools"]:
        assert re.fullmatch(r"\d{7}[A-Z]", school["uai"])
        assert school["uai"].startswith(school["department"])
        assert school["label"].startswith("Lycée")


def test_candidates_reference_existing_records(session: dict) -> None:
    schools = {s["uai"]: s["department"] for s in session["schools"]}
    qualifications = {q["code"] for q in session["qualifications"]}
    juries = {j["code"] for j in session["juries"]}
    numbers = [c["number"] for c in session["candidates"]]
    assert len(numbers) == CANDIDATES == len(set(numbers))
    class_sizes = Counter((c["school"], c["class_group"]) for c in session["candidates"])
    assert max(class_sizes.values()) <= 35
    for candidate in session["candidates"]:
        assert re.fullmatch(r"\d{10}", candidate["number"])
        assert candidate["qualification"] in qualifications
        assert candidate["jury"] in juries
        assert candidate["jury"].startswith(f"J{schools[candidate['school']]}-")
        prefix = "G" if candidate["qualification"] == "GEN" else candidate["qualification"]
        assert re.fullmatch(rf"[1T]{prefix}\d+", candidate["class_group"])


def test_some_candidates_are_flagged_as_fraud(session: dict) -> None:
    """R-VAL-8 needs fraud cases: about 0.1 %, at least one from 300 candidates."""
    assert sum(c["fraud"] for c in session["candidates"]) == 2
    small = session_generate(candidates=300, seed=1)
    assert sum(c["fraud"] for c in small["candidates"]) == 1


def test_one_script_per_candidate_and_exam(session: dict) -> None:
    owners = Counter((s["candidate"], s["exam"]) for s in session["scripts"])
    assert max(owners.values()) == 1
    ids = [s["id"] for s in session["scripts"]]
    assert ids == [f"S-{k:06d}" for k in range(1, len(ids) + 1)]


def test_attendance_decides_the_script(session: dict) -> None:
    """R-MARK-2, R-VAL-2, R-VAL-3: absents have no script; unrecorded ones have one or not."""
    with_script = {(s["candidate"], s["exam"]) for s in session["scripts"]}
    by_attendance: dict[object, Counter] = defaultdict(Counter)
    for registration in session["registrations"]:
        key = (registration["candidate"], registration["exam"])
        by_attendance[registration["attendance"]][key in with_script] += 1
    assert by_attendance["absent"][True] == 0
    assert by_attendance["present"][False] == 0
    assert by_attendance[None][True] > 0
    assert by_attendance[None][False] > 0
    marked = [r for r in session["registrations"] if r["exam"] == "FRA-ECRIT"]
    assert len(marked) == CANDIDATES
    present = sum(r["attendance"] == "present" for r in marked) / CANDIDATES
    assert 0.94 < present < 0.98


def test_leaf_marks_lie_within_their_maximum_and_on_the_step(marked_scripts: list) -> None:
    """R-MARK-1, R-MARK-3: leaf marks of the scheme, in [0, leaf max], multiples of 0.5."""
    for script in marked_scripts:
        if script["special_mark"] is not None:
            continue
        assert set(script["marks"]) == set(LEAVES)
        for code, mark in script["marks"].items():
            assert 0 <= mark <= LEAVES[code]
            assert (mark * 2) == int(mark * 2)
            assert isinstance(mark, int) or mark % 1 == 0.5


def test_blank_scripts_carry_the_cb_special_mark(session: dict) -> None:
    """R-MARK-2: a blank script has special mark CB and no marks."""
    blanks = [s for s in session["scripts"] if s["special_mark"] is not None]
    assert 5 <= len(blanks) <= 50
    assert all(s["special_mark"] == "CB" and s["marks"] == {} for s in blanks)


def test_imported_exam_has_global_marks_only(session: dict) -> None:
    """R-MARK-3: a harmonisation-only exam has a global mark, no batch, subject or pages."""
    exam = session["exams"][1]
    assert (exam["code"], exam["kind"], exam["scheme"], exam["subjects"]) == (
        "PHILO-HO", "harmonisation_only", [], [],
    )  # fmt: skip
    imported = [s for s in session["scripts"] if s["exam"] == "PHILO-HO"]
    assert CANDIDATES / 5 < len(imported) < CANDIDATES / 2
    for script in imported:
        assert script["batch"] is None
        assert script["subject"] is None
        assert "pages" not in script
        if script["special_mark"] is None:
            assert list(script["marks"]) == ["global"]
            assert 0 <= script["marks"]["global"] <= 20


def test_batches_hold_about_100_scripts_of_one_academy(session: dict, marked_scripts) -> None:
    """Batches of ~100 scripts, marked by a grader of the batch's academy (R-ACC-1)."""
    academy_of_user = {u["username"]: u["academy"] for u in session["users"]}
    department_academy = {d["code"]: d["academy"] for d in session["departments"]}
    school_academy = {s["uai"]: department_academy[s["department"]] for s in session["schools"]}
    candidate_academy = {c["number"]: school_academy[c["school"]] for c in session["candidates"]}
    batch_grader = {b["code"]: b["grader"] for b in session["batches"]}
    sizes = Counter(s["batch"] for s in marked_scripts)
    assert set(sizes) == set(batch_grader)
    assert all(90 <= size <= 100 for size in sizes.values())
    for script in marked_scripts:
        grader_academy = academy_of_user[batch_grader[script["batch"]]]
        assert candidate_academy[script["candidate"]] == grader_academy
    graders = Counter(batch_grader.values())
    assert max(graders.values()) <= 2


def test_most_batches_are_locked_and_some_are_not(session: dict) -> None:
    """R-UNIT-1, R-MASS-1b, R-VAL-3 need unlocked batches beside locked ones."""
    locked = [b["locked"] for b in session["batches"]]
    assert 0 < locked.count(False) < len(locked) / 3
    small = session_generate(candidates=300, seed=11)
    assert [b["locked"] for b in small["batches"]].count(False) >= 1


def test_marks_are_realistic_with_severe_and_lenient_graders(session, marked_scripts) -> None:
    """Mean about 10.5/20, sd about 3.5, graders who clearly mark low or high to harmonise."""
    batch_grader = {b["code"]: b["grader"] for b in session["batches"]}
    by_grader: dict[str, list[float]] = defaultdict(list)
    totals = []
    for script in marked_scripts:
        if script["special_mark"] is None:
            total = sum(script["marks"].values())
            totals.append(total)
            by_grader[batch_grader[script["batch"]]].append(total)
    mean = statistics.mean(totals)
    assert 9.8 < mean < 11.5
    assert 3.0 < statistics.pstdev(totals) < 4.2
    grader_means = [statistics.mean(marks) for marks in by_grader.values()]
    assert min(grader_means) < mean - 2
    assert max(grader_means) > mean + 2


def test_users_demo_accounts_and_roles(session: dict) -> None:
    users = {u["username"]: u for u in session["users"]}
    for academy in ("nancy-metz", "strasbourg"):
        assert users[f"coord.{academy}"]["role"] == "academic_coordinator"
        assert users[f"membre.{academy}"]["missions"] == ["FRA-ECRIT"]
        assert users[f"membre2.{academy}"]["missions"] == []
        assert users[f"dec.{academy}"]["role"] == "exam_officer"
        for prefix in ("coord", "membre", "membre2", "dec"):
            assert users[f"{prefix}.{academy}"]["password"] == DEMO_PASSWORD
    for school in session["schools"]:
        account = users[f"etab.{school['uai'].lower()}"]
        assert (account["role"], account["school"]) == ("school", school["uai"])
    for user in users.values():
        assert user["academy"] in {"NANCY-METZ", "STRASBOURG"}
        assert (user["school"] is None) == (user["role"] != "school")
        assert user["missions"] == [] or user["username"].startswith("membre.")
    graders = [u for u in session["users"] if u["role"] == "grader"]
    assert all(re.fullmatch(r"corr\.[a-z0-9-]+\.\d+", g["username"]) for g in graders)
    for academy in ("NANCY-METZ", "STRASBOURG"):
        own = [g for g in graders if g["academy"] == academy]
        assert [("password" in g) for g in own][:3] == [True, True, False]
        own_schools = [
            u for u in session["users"] if u["role"] == "school" and u["academy"] == academy
        ]
        # The first two, and a third one only to show a fraud case (R-VAL-8).
        assert [("password" in s) for s in own_schools][:2] == [True, True]
        assert sum("password" in s for s in own_schools) <= 3


def _demo_academy_facts(session: dict) -> tuple[Counter, set[str]]:
    """PHILO-HO's classes of registrations and the password schools with a fraud case."""
    academy_of = {d["code"]: d["academy"] for d in session["departments"]}
    demo_schools = {
        s["uai"] for s in session["schools"] if academy_of[s["department"]] == "NANCY-METZ"
    }
    candidates = {c["number"]: c for c in session["candidates"]}
    scripts = {s["candidate"]: s for s in session["scripts"] if s["exam"] == "PHILO-HO"}
    classes: Counter = Counter()
    for registration in session["registrations"]:
        number = registration["candidate"]
        if registration["exam"] != "PHILO-HO" or candidates[number]["school"] not in demo_schools:
            continue
        script = scripts.get(number)
        if script is None:
            classes["absent" if registration["attendance"] == "absent" else "unsettled"] += 1
        elif script["batch"] is None and (script["marks"] or script["special_mark"]):
            classes["marked"] += 1  # no batch: imported locked (API.md §1)
        else:
            classes["unsettled"] += 1
    fraud_schools = {c["school"] for c in candidates.values() if c["fraud"]}
    password_schools = {
        u["school"] for u in session["users"] if u["role"] == "school" and "password" in u
    }
    return classes, demo_schools & fraud_schools & password_schools


@pytest.mark.parametrize(
    "arguments", [{"candidates": 600, "seed": 2026}, {"candidates": 300, "seed": 1}]
)
def test_demo_academy_shows_a_full_transmission_and_a_fraud_case(arguments: dict) -> None:
    """R-VAL-2, R-VAL-8 (issue 13): in NANCY-METZ every PHILO-HO candidate is settled,
    recorded absent or with a marked locked script, so its validation is a full transmission;
    and a school account with a password has a candidate flagged for fraud."""
    classes, shown = _demo_academy_facts(session_generate(**arguments))
    assert classes["marked"] > 0
    assert classes["unsettled"] == 0
    assert len(shown) == 1


def test_scan_is_deterministic_small_a4_pdf() -> None:
    """Same seed and name, same bytes; 1 or 2 A4 pages of a few tens of kilobytes."""
    scan = scan_render(name="S-000042", exam="FRA-ECRIT", seed=1)
    assert scan == scan_render(name="S-000042", exam="FRA-ECRIT", seed=1)
    assert scan != scan_render(name="S-000042", exam="FRA-ECRIT", seed=2)
    assert 8_000 < len(scan) < 80_000
    document = pypdfium2.PdfDocument(scan)
    try:
        assert len(document) in (1, 2)
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (595, 842)
    finally:
        document.close()


def test_scans_carry_no_candidate_identity(session: dict, tmp_path: Path) -> None:
    """R-UNIT-2: a scan is drawn from the anonymous script id and the exam code only."""
    script = session_generate(candidates=50, seed=SEED, scans="all")["scripts"][0]
    assert script["pages"] == [f"scans/{script['id']}.pdf"]
    scans_write(directory=tmp_path, names=[script["id"]], exam="FRA-ECRIT", seed=SEED, workers=1)
    content = (tmp_path / f"{script['id']}.pdf").read_bytes()
    assert script["candidate"].encode() not in content
    assert content == scan_render(name=script["id"], exam="FRA-ECRIT", seed=SEED)


def test_command_writes_the_session_and_its_scans(tmp_path: Path) -> None:
    output = io.StringIO()
    target = tmp_path / "session.json"
    call_command("generate_session", candidates=30, seed=4, output=target, stdout=output)
    data = json.loads(target.read_text(encoding="utf-8"))
    pages = [s["pages"][0] for s in data["scripts"] if s["exam"] == "FRA-ECRIT"]
    assert pages
    assert all((tmp_path / page).is_file() for page in pages)
    assert data == session_generate(candidates=30, seed=4, scans="all")
    assert output.getvalue().startswith("Session générée : 30 candidats,")
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.django_db
def test_demo_accounts_name_the_school_with_a_fraud_case(tmp_path: Path) -> None:
    """R-VAL-8 (issue 13): `demo_accounts` prints each school account's school, and the
    one whose school has a fraud case says so; PHILO-HO is a full transmission there."""
    from harmonie.referential.models import Academy, Exam
    from harmonie.validation.selectors import validation_preview

    target = tmp_path / "session.json"
    call_command("generate_session", candidates=600, seed=2026, scans="none", output=target)
    call_command("import_session", target, stdout=io.StringIO())
    output = io.StringIO()
    call_command("demo_accounts", stdout=output)
    session = json.loads(target.read_text(encoding="utf-8"))
    _, shown = _demo_academy_facts(session)
    (uai,) = shown
    line = next(x for x in output.getvalue().splitlines() if f"etab.{uai.lower()}" in x)
    label = next(s["label"] for s in session["schools"] if s["uai"] == uai)
    assert f"— {label} (" in line
    assert line.endswith(" cas de fraude)")
    academy = Academy.objects.get(code="NANCY-METZ")
    preview = validation_preview(exam=Exam.objects.get(code="PHILO-HO"), academy_id=academy.pk)
    assert preview.mode == "full"
