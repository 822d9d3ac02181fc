"""Harmonisation writes update the script row in place (issue 16, item 1).

PostgreSQL rewrites a row in place on its page, with no new entry in any index (a HOT
update), when no indexed column changes and the page has room. The list index carried the
final mark, which every harmonisation changes, so each changed script wrote a new entry in
each of the table's 10 indexes; the sort by mark it served is a top-N sort of the
academy's scripts either way for the descending sort (nulls last), which the list uses.
Fillfactor 70 leaves the room on each page. Measured in bench/narrow_writes.py.

Rows written before this migration sit on full pages until rewritten: on a database that
already holds a session, run `VACUUM FULL marking_script` once, in a quiet hour (README,
"PostgreSQL").
"""

from django.db import migrations


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE marking_script SET (fillfactor = 70)")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE marking_script RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("marking", "0004_script_imported_fingerprint")]

    operations = [
        migrations.RemoveIndex(model_name="script", name="script_unit_list_mark_idx"),
        migrations.RunPython(fillfactor_set, fillfactor_reset),
    ]
