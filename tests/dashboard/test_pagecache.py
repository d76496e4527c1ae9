"""Pages kept per version of the data (apps.dashboard.pagecache, apps.common.dataversion): served again only while
nothing was written since, never across users, and never past a price's stated start."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from apps.catalog.models import Provider
from apps.common import dataversion
from apps.dashboard import pagecache

pytestmark = pytest.mark.django_db


@pytest.fixture
def public(settings):
    settings.TOKENWATCH_PUBLIC_API = True
    settings.TOKENWATCH_PAGE_THROTTLE_ANON = None


def test_a_write_of_data_moves_the_version_and_a_session_does_not():
    before = dataversion.current()
    provider = Provider.objects.create(slug="acme", name="Acme")
    after_insert = dataversion.current()
    assert after_insert > before
    Provider.objects.filter(pk=provider.pk).update(name="Acme Inc")
    assert dataversion.current() > after_insert
    settled = dataversion.current()
    get_user_model().objects.create_user("someone", password="pw-someone-1")  # auth_user: not data
    with connection.cursor() as cursor:  # raw SQL through Django's cursor is seen too
        cursor.execute("SELECT 1")
    assert dataversion.current() == settled
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_provider SET name = %s WHERE id = %s", ["Acme Corp", provider.pk])
    assert dataversion.current() > settled


def test_statements_are_told_apart_by_their_table():
    assert dataversion.is_data_write('INSERT INTO "pricing_price" ("offering_id") VALUES (1)')
    assert dataversion.is_data_write("  update sources_snapshot SET content = NULL")
    assert dataversion.is_data_write('DELETE FROM "catalog_model" WHERE id = 3')
    assert dataversion.is_data_write('TRUNCATE "catalog_offering", "pricing_price";')
    assert not dataversion.is_data_write('UPDATE "django_session" SET expire_date = now()')
    assert not dataversion.is_data_write('INSERT INTO "tokenwatch_cache" VALUES (1)')
    assert not dataversion.is_data_write('SELECT * FROM "pricing_price"')


@pytest.mark.usefixtures("postgres")
def test_postgresql_moves_it_again_when_the_writing_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        before = dataversion.current()
        Provider.objects.create(slug="acme", name="Acme")
        Provider.objects.create(slug="acme-2", name="Acme 2")
        during = dataversion.current()
    assert during > before
    assert len(callbacks) == 1  # once per transaction, however many writes
    assert dataversion.current() == during + 1


def last_drawn() -> int:
    """The sequence's newest number, read past Django's cursor (a read of the version through
    dataversion.current() would itself make the next write draw)."""
    assert dataversion.SEQUENCE == "common_data_version_seq"
    return connection.connection.execute("SELECT last_value FROM common_data_version_seq").fetchone()[0]


@pytest.mark.usefixtures("postgres")
def test_postgresql_writes_in_one_transaction_draw_again_only_after_a_read_of_the_version():
    """Numbers drawn between this transaction's first write and its commit are all ended by the commit's; a
    reader elsewhere does not see the writes before it. Only a page this connection keys inside its own
    transaction needs the next write to draw again."""
    from django.db import transaction

    with transaction.atomic():
        Provider.objects.create(slug="acme", name="Acme")
        drawn = last_drawn()
        Provider.objects.create(slug="acme-2", name="Acme 2")
        Provider.objects.filter(slug="acme").update(name="Acme Inc")
        after_writes = last_drawn()
        assert after_writes == drawn  # no read in between: no round trip per write
        read = dataversion.current()  # something is keyed by it now
        Provider.objects.filter(slug="acme").update(name="Acme Corp")
        assert dataversion.current() > read
        with connection.cursor() as cursor:  # raw SQL and COPY count the same
            cursor.execute("UPDATE catalog_provider SET name = %s WHERE slug = %s", ["Acme Ltd", "acme"])
        assert dataversion.current() > read + 1


@pytest.mark.usefixtures("postgres")
def test_postgresql_a_savepoint_rolled_back_takes_its_commit_number_and_the_next_write_draws_again(
        django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        before = dataversion.current()
        try:
            with transaction.atomic():
                Provider.objects.create(slug="acme", name="Acme")
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        rolled_back = last_drawn()
        assert rolled_back > before  # nextval is not undone
        Provider.objects.create(slug="acme-2", name="Acme 2")
        during = last_drawn()
        assert during > rolled_back
    assert len(callbacks) == 1
    assert dataversion.current() == during + 1


@pytest.mark.usefixtures("postgres")
def test_postgresql_copy_moves_it():
    from apps.common.bulk import copy_tuples

    before = dataversion.current()
    copy_tuples(Provider, ["slug", "name", "kind", "homepage", "primary_offering", "key_differentiation",
                                  "target_metric", "notes"],
                [("copied", "Copied", "unknown", "", "", "", "", "")])
    assert dataversion.current() > before


def test_a_page_is_kept_until_the_data_changes(client, public, django_assert_max_num_queries):
    Provider.objects.create(slug="acme", name="Acme Cloud")
    first = client.get("/providers/")
    assert first["X-Page-Cache"] == "miss" and b"Acme Cloud" in first.content
    with django_assert_max_num_queries(2):  # the version (and the session), nothing else
        again = client.get("/providers/")
    assert again["X-Page-Cache"] == "hit"
    assert again.content == first.content
    Provider.objects.create(slug="zeta", name="Zeta Inference")
    changed = client.get("/providers/")
    assert changed["X-Page-Cache"] == "miss" and b"Zeta Inference" in changed.content


def test_the_query_string_is_part_of_the_key(client, public):
    Provider.objects.create(slug="acme", name="Acme Cloud")
    assert client.get("/providers/?sort=name")["X-Page-Cache"] == "miss"
    assert client.get("/providers/?sort=-name")["X-Page-Cache"] == "miss"
    assert client.get("/providers/?sort=name")["X-Page-Cache"] == "hit"


def test_each_visitor_gets_their_own_account_corner_and_a_valid_csrf_token(public):
    users = get_user_model()
    alice, bob = users.objects.create_user("alice", password="pw-alice-1"), users.objects.create_user(
        "bob", password="pw-bob-1")
    Provider.objects.create(slug="acme", name="Acme Cloud")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(alice)
    second.force_login(bob)
    assert first.get("/providers/")["X-Page-Cache"] == "miss"
    page = second.get("/providers/")
    assert page["X-Page-Cache"] == "hit"
    html = page.content.decode()
    assert "Sign out bob" in html and "alice" not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert second.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    anonymous = Client().get("/providers/")
    assert anonymous["X-Page-Cache"] == "miss"  # another kind of visitor: its own page
    assert "Sign out" not in anonymous.content.decode() and "Sign in" in anonymous.content.decode()


def test_staff_pages_are_kept_apart(public):
    staff = get_user_model().objects.create_user("curator", password="pw-curator-1", is_staff=True)
    Provider.objects.create(slug="acme", name="Acme Cloud")
    anonymous = Client()
    anonymous.get("/providers/")
    as_staff = Client()
    as_staff.force_login(staff)
    page = as_staff.get("/providers/")
    assert page["X-Page-Cache"] == "miss"
    assert 'href="/admin/"' in page.content.decode()
    assert 'href="/admin/"' not in anonymous.get("/providers/").content.decode()


def test_a_stated_price_start_ends_the_kept_page(client, public):
    from apps.catalog.models import ModelAlias, Offering
    from apps.pricing.models import Price
    from apps.sources.models import Snapshot, Source

    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    source = Source.objects.create(key="stated", name="Stated", format="llm-prices")
    snapshot = Snapshot.objects.create(source=source, sha256="0" * 64, content=b"{}", size_bytes=2, observed_at=now)
    provider = Provider.objects.create(slug="acme", name="Acme Cloud")
    alias = ModelAlias.objects.create(source=source, raw_id="acme-1")
    offering = Offering.objects.create(source=source, provider=provider, alias=alias, source_model_id="acme-1")
    starts = now + timedelta(minutes=30)  # before the next full hour
    Price.objects.create(offering=offering, provider=provider, effective_from=starts, basis="stated",
                         input_usd_per_mtok=Decimal("1"), output_usd_per_mtok=Decimal("2"), snapshot=snapshot)
    assert pagecache.next_change(now) == starts
    with mock.patch("django.utils.timezone.now", return_value=now):
        assert client.get("/providers/")["X-Page-Cache"] == "miss"
        assert client.get("/providers/")["X-Page-Cache"] == "hit"
    with mock.patch("django.utils.timezone.now", return_value=starts + timedelta(seconds=1)):
        assert client.get("/providers/")["X-Page-Cache"] == "miss"


def test_the_next_full_hour_ends_the_kept_page():
    now = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)
    assert pagecache.next_change(now) == datetime(2026, 11, 30, tzinfo=UTC)
    assert pagecache.next_change(now.replace(hour=9, minute=1)) == datetime(2026, 11, 29, 10, tzinfo=UTC)


def test_a_source_turning_stale_ends_the_kept_page():
    """No fetch, no write (a dead worker): the overview must still say "stale" once the data passes its limit."""
    from apps.sources.models import Sighting, Snapshot, Source

    fetched = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    source = Source.objects.create(key="hourly", name="Hourly", format="litellm", freshness_hours=6)
    snapshot = Snapshot.objects.create(source=source, sha256="1" * 64, content=b"{}", size_bytes=2,
                                       observed_at=fetched, parse_status=Snapshot.Status.OK)
    Sighting.objects.create(source=source, snapshot=snapshot, observed_at=fetched)
    assert pagecache.next_change(fetched + timedelta(hours=5, minutes=30)) == fetched + timedelta(hours=6)


def test_downloads_and_errors_are_not_kept(client, public):
    Provider.objects.create(slug="acme", name="Acme Cloud")
    assert "X-Page-Cache" not in client.get("/providers/?download=csv")
    assert client.get("/providers/no-such-provider/").status_code == 404
    assert client.get("/providers/no-such-provider/").status_code == 404


def test_the_cache_can_be_turned_off(client, public, settings):
    settings.TOKENWATCH_PAGE_CACHE = False
    Provider.objects.create(slug="acme", name="Acme Cloud")
    client.get("/providers/")
    assert "X-Page-Cache" not in client.get("/providers/")


def test_the_navigation_is_computed_ahead_of_the_first_visitor(analyst, public):
    Provider.objects.create(slug="acme", name="Acme Cloud")
    computed = pagecache.warm(paths=["/providers/", "/models/"])
    assert computed == 4  # two pages, for signed-in analysts and for anonymous visitors of the public pages
    page = analyst.get("/providers/")
    assert page["X-Page-Cache"] == "hit"
    assert "Sign out analyst" in page.content.decode() and "page-cache-warm" not in page.content.decode()
    assert Client().get("/models/")["X-Page-Cache"] == "hit"


def test_a_warm_up_for_an_older_data_version_leaves_the_work_to_the_newer_one():
    version = dataversion.current()
    Provider.objects.create(slug="acme", name="Acme Cloud")
    assert pagecache.warm(version=version, paths=["/providers/"]) == 0


@pytest.mark.usefixtures("postgres")
def test_a_commit_of_data_is_announced_once(django_capture_on_commit_callbacks):
    heard = []

    def listener(sender, using, **kwargs):
        heard.append(using)

    dataversion.data_committed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            Provider.objects.create(slug="acme", name="Acme")
            Provider.objects.create(slug="acme-2", name="Acme 2")
    finally:
        dataversion.data_committed.disconnect(listener)
    assert heard == ["default"]
