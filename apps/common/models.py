"""The data version: one number that changes whenever a committed write changes what the pages show."""

from __future__ import annotations

from django.db import models


class DataVersion(models.Model):
    """The embedded default's (SQLite's) data version, one row (id 1). PostgreSQL counts in a sequence instead
    (``common_data_version_seq``), which no writer waits on; see apps.common.dataversion."""

    version = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "data version"

    def __str__(self) -> str:
        return str(self.version)
