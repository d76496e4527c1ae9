"""PostgreSQL: the hardware price tables' keys are checked once per statement, a set at a time
(apps/common/statementkeys.py, as the price tables' since pricing 0011), in place of their foreign keys' one
deferred check per row at COMMIT.

A 100,000-row hardware price CSV writes ~100,000 observations, ~15,000 offerings and ~15,000 prices, two or three
keys each: ~245,000 checks queued for COMMIT, which took ~1.07 s of the import's ~6 s (bench/csv_import.py; the
COMMIT timed alone, bench/README.md "Issue 14: the hardware CSV import"). Each table's rows of one statement are
now checked as one set when the statement ends.

The same rows are refused: an offering naming a source, provider or hardware that does not exist; an observation
or a price naming an offering or snapshot that does not exist; and deleting, or changing the id of, a parent one
of them names. The refusal comes at the end of the statement instead of at COMMIT. Django's on_delete (an
offering's observations and prices go with it; providers, hardware, sources and a price's snapshot are
protected) is applied by Django's collector and is unchanged. SQLite keeps its keys.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore
from apps.common.statementkeys import StatementKey, keys_to_statements, statements_drop

KEYS = [
    StatementKey("hardware_offering_source", "benchmarks_hardwareoffering", ("source_id",), "sources_source",
                 ("id",), "a source"),
    StatementKey("hardware_offering_provider", "benchmarks_hardwareoffering", ("provider_id",), "catalog_provider",
                 ("id",), "a provider"),
    StatementKey("hardware_offering_hardware", "benchmarks_hardwareoffering", ("hardware_id",), "benchmarks_hardware",
                 ("id",), "hardware"),
    StatementKey("hardware_observation_offering", "benchmarks_hardwarepriceobservation", ("offering_id",),
                 "benchmarks_hardwareoffering", ("id",), "an offering"),
    StatementKey("hardware_observation_snapshot", "benchmarks_hardwarepriceobservation", ("snapshot_id",),
                 "sources_snapshot", ("id",), "a snapshot"),
    StatementKey("hardware_price_offering", "benchmarks_hardwareprice", ("offering_id",),
                 "benchmarks_hardwareoffering", ("id",), "an offering"),
    StatementKey("hardware_price_snapshot", "benchmarks_hardwareprice", ("snapshot_id",), "sources_snapshot",
                 ("id",), "a snapshot"),
]


def forwards(apps, schema_editor):
    keys_to_statements(schema_editor, KEYS)


def backwards(apps, schema_editor):
    if not statements_drop(schema_editor, KEYS):
        return
    foreign_keys_restore(apps, schema_editor, "benchmarks.HardwareOffering", ["source", "provider", "hardware"])
    foreign_keys_restore(apps, schema_editor, "benchmarks.HardwarePriceObservation", ["offering", "snapshot"])
    foreign_keys_restore(apps, schema_editor, "benchmarks.HardwarePrice", ["offering", "snapshot"])


class Migration(migrations.Migration):

    dependencies = [
        ("benchmarks", "0007_run_provenance_per_statement"),
        ("catalog", "0001_initial"),
        ("sources", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
