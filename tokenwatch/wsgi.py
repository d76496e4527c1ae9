import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
application = get_wsgi_application()


def freeze_startup_objects() -> None:
    """Import every view (pandas, Plotly, the URL conf) now, move what startup allocated out of the cyclic
    GC's reach, and let the youngest generation grow larger before a collection.

    A dashboard request allocates many pandas and Plotly objects, so the collector ran a few dozen times per
    page, and a full collection walked the ~1M long-lived objects of the imported libraries: one pause of
    ~0.5 s every few dozen pages, the p95 of otherwise light pages. Measured over every bench page
    (bench/pages.py, 51 requests): GC 1,000-1,100 ms in total with a worst pause of 525-549 ms before;
    frozen, 550-610 ms and 69-89 ms; frozen with a first threshold of 5,000, 285-547 ms and 14-33 ms.
    Under gunicorn with ``--preload`` the frozen objects are also never written by the collector, so forked
    workers keep sharing those memory pages.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module and what they import
    gc.collect()
    gc.freeze()
    gc.set_threshold(5_000, 10, 10)  # Python's default first threshold is 700 allocations


freeze_startup_objects()
