"""Thin tasks: the dashboard's default pages computed ahead of their first visitor (apps.dashboard.pagecache)."""

from __future__ import annotations

from celery import shared_task

from . import pagecache


@shared_task(name="dashboard.pages_warm", ignore_result=True)
def pages_warm(version: int) -> int:
    return pagecache.warm(version=version)
