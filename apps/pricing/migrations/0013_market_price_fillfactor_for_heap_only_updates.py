"""PostgreSQL: leave half of each market price page free, so that a sighting's market update stays heap-only.

Every sighting moves the confirmation of each market row the source gives evidence for: ``last_confirmed_at``
and the evidence list change, the chosen price, its source, the key and the agreement do not, so no index
entry has to change. But at the default fillfactor (100) a page has no room for the new row version, which
then moves to another page and writes an entry in each of the table's six indexes: 1.5 % of the updates
were heap-only over the seven LiteLLM files (18,240 updates), 93 % at fillfactor 50, and the market
refresh's PostgreSQL time 10-15 % less (bench/README.md, "ingest, ninth pass"). As pricing 0010 did for
prices' confirmations.

Only pages written from now on follow the setting (no rewrite here: that would lock the table). The market
holds one row per offering (thousands), so twice its pages is little to read.
"""

from django.db import migrations

from apps.common.pgtables import set_fillfactor


class Migration(migrations.Migration):

    dependencies = [("pricing", "0012_price_offering_key_per_statement")]

    operations = [migrations.RunPython(set_fillfactor("pricing_marketprice", 50),
                                       set_fillfactor("pricing_marketprice", 100), elidable=False)]
