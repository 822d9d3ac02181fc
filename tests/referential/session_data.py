"""A small valid session file (API.md §1) for import tests."""

import copy
import json
from pathlib import Path

BASE = {
    "format": "harmonie-session/1",
    "session": {"code": "BAC2026", "label": "Baccalauréat 2026"},
    "academies": [
        {"code": "NANCY-METZ", "label": "Nancy-Metz"},
        {"code": "STRASBOURG", "label": "Strasbourg"},
    ],
    "departments": [
        {"code": "057", "label": "Moselle", "academy": "NANCY-METZ"},
        {"code": "067", "label": "Bas-Rhin", "academy": "STRASBOURG"},
    ],
    "schools": [
        {"uai": "0570001A", "label": "Lycée Fabert", "department": "057"},
        {"uai": "0670001B", "label": "Lycée Kléber", "department": "067"},
    ],
    "qualifications": [
        {"code": "STMG", "label": "Sciences et technologies du management et de la gestion"}
    ],
    "juries": [
        {"code": "J057-01", "academy": "NANCY-METZ"},
        {"code": "J067-01", "academy": "STRASBOURG"},
    ],
    "users": [
        {
            "username": "coord.nm",
            "first_name": "Sabrina",
            "last_name": "Antonioli",
            "role": "academic_coordinator",
            "academy": "NANCY-METZ",
            "school": None,
            "missions": ["FRA-ECRIT"],
            "password": "harmonie2026",
        },
        {
            "username": "corr.dupont",
            "first_name": "Jean",
            "last_name": "Dupont",
            "role": "grader",
            "academy": "NANCY-METZ",
            "school": None,
            "missions": [],
        },
        {
            "username": "corr.klein",
            "first_name": "Eva",
            "last_name": "Klein",
            "role": "grader",
            "academy": "STRASBOURG",
            "school": None,
            "missions": [],
        },
        {
            "username": "etab.0570001a",
            "first_name": "Paul",
            "last_name": "Proviseur",
            "role": "school",
            "academy": None,
            "school": "0570001A",
            "missions": [],
        },
    ],
    "exams": [
        {
            "code": "FRA-ECRIT",
            "label": "Écrit de français, toutes séries",
            "kind": "marked",
            "max_mark": 20,
            "step": 0.5,
            "special_marks": ["AB", "CB"],
            "scheme": [
                {
                    "code": "P1",
                    "label": "Commentaire",
                    "max": 10,
                    "children": [{"code": "Q1", "max": 4}, {"code": "Q2", "max": 6}],
                },
                {"code": "P2", "label": "Dissertation", "max": 10},
            ],
            "subjects": ["SUJET-A", "SUJET-B"],
        },
        {
            "code": "PHILO-HO",
            "label": "Philosophie",
            "kind": "harmonisation_only",
            "max_mark": 20,
            "step": 0.5,
            "special_marks": ["AB", "CB"],
            "scheme": [],
            "subjects": [],
        },
    ],
    "candidates": [
        {
            "number": "0123456789",
            "school": "0570001A",
            "class_group": "1STMG2",
            "qualification": "STMG",
            "jury": "J057-01",
            "fraud": False,
        },
        {
            "number": "0123456790",
            "school": "0570001A",
            "class_group": "1STMG2",
            "qualification": "STMG",
            "jury": "J057-01",
            "fraud": False,
        },
        {
            "number": "0123456791",
            "school": "0670001B",
            "class_group": "1STMG1",
            "qualification": "STMG",
            "jury": "J067-01",
            "fraud": True,
        },
        {
            "number": "0123456792",
            "school": "0570001A",
            "class_group": "1STMG3",
            "qualification": "STMG",
            "jury": "J057-01",
            "fraud": False,
        },
    ],
    "registrations": [
        {"candidate": "0123456789", "exam": "FRA-ECRIT", "attendance": "present"},
        {"candidate": "0123456790", "exam": "FRA-ECRIT", "attendance": "present"},
        {"candidate": "0123456791", "exam": "FRA-ECRIT", "attendance": "present"},
        {"candidate": "0123456792", "exam": "FRA-ECRIT", "attendance": "absent"},
        {"candidate": "0123456789", "exam": "PHILO-HO", "attendance": "present"},
    ],
    "batches": [
        {"code": "L-0001", "exam": "FRA-ECRIT", "grader": "corr.dupont", "locked": True},
        {"code": "L-0002", "exam": "FRA-ECRIT", "grader": "corr.klein", "locked": False},
    ],
    "scripts": [
        {
            "id": "S-000001",
            "candidate": "0123456789",
            "exam": "FRA-ECRIT",
            "subject": "SUJET-A",
            "batch": "L-0001",
            "marks": {"Q1": 3, "Q2": 4.5, "P2": 7},
            "special_mark": None,
            "pages": [],
        },
        {
            "id": "S-000002",
            "candidate": "0123456790",
            "exam": "FRA-ECRIT",
            "subject": "SUJET-B",
            "batch": "L-0001",
            "marks": {},
            "special_mark": "CB",
            "pages": [],
        },
        {
            "id": "S-000003",
            "candidate": "0123456791",
            "exam": "FRA-ECRIT",
            "subject": "SUJET-A",
            "batch": "L-0002",
            "marks": {"Q1": 4, "Q2": 6, "P2": 10},
            "special_mark": None,
            "pages": [],
        },
        {
            "id": "S-000004",
            "candidate": "0123456789",
            "exam": "PHILO-HO",
            "subject": None,
            "batch": None,
            "marks": {"global": 12.5},
            "special_mark": None,
        },
    ],
}


def session_data() -> dict:
    return copy.deepcopy(BASE)


def session_write(directory: Path, data: dict, name: str = "session.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path
