"""PostgreSQL: leave half of each price page free, so that a sighting's confirmation stays heap-only.

Every sighting of a source's newest document moves ``last_confirmed_at`` on each of its open prices (one
UPDATE, ``apps.pricing.services.prices_confirm``). Migration 0004 left 20 % of each page free for those new
row versions, meant to keep the UPDATE heap-only (HOT: no index entry rewritten; no index covers the
column). But a page fills to 80 % with rows that are all open after an ingest, and its free fifth holds new
versions of only a quarter of them: the rest moved to other pages and wrote an entry in each of the table's
six indexes. Measured on the newest LiteLLM file (3,383 prices, bench/ingest.py "same file again"): 27 % of
the updates heap-only at fillfactor 80, all at 50, and the sighting's PostgreSQL time about a third.

Only pages written from now on follow the setting (no rewrite here: that would lock the table); closed
prices, which are never confirmed again, then take about twice the pages: reads through an index (the API,
the pages) fetch the same rows, a whole-table read (the CSV export of every price) reads twice the pages.
"""

from django.db import migrations

from apps.common.pgtables import set_fillfactor


class Migration(migrations.Migration):

    dependencies = [("pricing", "0009_drop_derived_market_foreign_keys")]

    operations = [migrations.RunPython(set_fillfactor("pricing_price", 50), set_fillfactor("pricing_price", 80),
                                       elidable=False)]
