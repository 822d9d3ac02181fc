"""The load test's random filters and scenarios, shared by locustfile.py and profile.py
(which must not import Locust: it monkey-patches the standard library with gevent)."""

import json
import os
import random

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"], encoding="utf-8").read())  # noqa: SIM115
EXAM = CONFIG["exam"]
SORTS = ["id", "-id", "mark", "-mark", "school", "grader", "department", "-subject"]


def _filter() -> dict[str, object]:
    """A filter as a coordinator would pick one: often one school or qualification, marks."""
    choice = random.random()
    if choice < 0.2:
        return {}
    if choice < 0.4:
        return {"schools": random.sample(CONFIG["schools"], k=random.randint(1, 3))}
    if choice < 0.55:
        return {"qualifications": [random.choice(CONFIG["qualifications"])]}
    if choice < 0.7:
        return {"departments": [random.choice(CONFIG["departments"])]}
    if choice < 0.8:
        return {"graders": [random.choice(CONFIG["graders"])]}
    low = random.randint(0, 14)
    return {"mark_min": low, "mark_max": low + random.randint(2, 6)}


def _query(filter_: dict[str, object]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in filter_.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return pairs


def _scenarios() -> list[dict]:
    low = random.randint(0, 10)
    scenarios = [
        {
            "filter": {"mark_min": low, "mark_max": low + random.randint(2, 6)},
            "action": {"type": "raise", "points": random.choice([0.5, 1, 1.5])},
        }
    ]
    if random.random() < 0.5:
        scenarios.append(
            {
                "filter": {"qualifications": [random.choice(CONFIG["qualifications"])]},
                "action": {"type": "lower", "points": 0.5},
            }
        )
    if random.random() < 0.3:
        scenarios.append(
            {"filter": {"mark_part": "P1", "mark_min": 6}, "action": {"type": "reset"}}
        )
    return scenarios
