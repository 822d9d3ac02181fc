"""R-TRUST-2: what the last import brought, per script.

Existing rows get the fingerprint of what they were most likely imported with, so that
the first re-import after the upgrade raises no false conflict:
- a script with no saved version (never edited in Harmonie, version 1 or bumped by a
  re-import only): its marking as stored today;
- a script whose marking is still its latest saved version (edited in Harmonie since the
  import): the version with no author, the grader's correction as imported;
- a script whose marking differs from its latest saved version (a re-import overwrote
  the edit, as the old import did): its marking as stored today.
"""

from django.db import migrations, models

from harmonie.marking.fingerprint import marking_fingerprint

CHUNK = 5000


def _fingerprint(state: dict) -> str:
    return marking_fingerprint(
        marks=state["marks"], special_mark=state["special_mark"], annotations=state["annotations"]
    )


def fingerprints_fill(apps, schema_editor):
    Script = apps.get_model("marking", "Script")
    ScriptVersion = apps.get_model("marking", "ScriptVersion")
    history: dict[int, list[dict]] = {}
    for version in (
        ScriptVersion.objects.order_by("script_id", "number")
        .values("script_id", "author_id", "marks", "special_mark", "annotations")
        .iterator(chunk_size=CHUNK)
    ):
        history.setdefault(version["script_id"], []).append(version)
    pending: list = []
    rows = Script.objects.order_by("id").values("id", "marks", "special_mark", "annotations")
    for row in rows.iterator(chunk_size=CHUNK):
        current = _fingerprint(row)
        imported: str | None = current
        versions = history.get(row["id"])
        if versions and _fingerprint(versions[-1]) == current:
            correction = next((v for v in versions if v["author_id"] is None), None)
            imported = _fingerprint(correction) if correction else None
        pending.append(Script(id=row["id"], imported_fingerprint=imported))
        if len(pending) >= CHUNK:
            Script.objects.bulk_update(pending, ["imported_fingerprint"])
            pending = []
    Script.objects.bulk_update(pending, ["imported_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("marking", "0003_script_fewer_indexes")]

    operations = [
        migrations.AddField(
            model_name="script",
            name="imported_fingerprint",
            field=models.CharField(
                blank=True,
                max_length=32,
                null=True,
                verbose_name="empreinte de la notation importée",
            ),
        ),
        migrations.AddField(
            model_name="scriptversion",
            name="from_import",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fingerprints_fill, migrations.RunPython.noop),
    ]
