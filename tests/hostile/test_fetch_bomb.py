"""A gzip bomb served to the fetcher (issue 12): the fetcher inflates gzip, so its cap must hold on what it inflates.

A real loopback server answers with 256 MB of zeros compressed to about 250 KB
(Content-Encoding: gzip). `manage.py ingest` (a fetch) ends in one line naming the URL,
a failed run, no snapshot and no table changed.
"""

from __future__ import annotations

import zlib
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.sources.models import IngestRun, Snapshot
from tests.conftest import served_source
from tests.hostile.domain import domain_dump

pytestmark = pytest.mark.django_db


def _bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    return b"".join([*(compressor.compress(block) for _ in range(256)), compressor.flush()])


BOMB = _bomb()


class Bomb(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(BOMB)))
        self.end_headers()
        self.wfile.write(BOMB)

    def log_message(self, *args):
        pass


@pytest.fixture
def bomb_server(settings):
    settings.TOKENWATCH_FETCH_ALLOW_PRIVATE = True
    with served_source(Bomb) as source:
        yield source


def test_a_gzip_bomb_is_refused_at_the_fetch_cap_in_one_line(bomb_server, capsys) -> None:
    before = domain_dump()
    with pytest.raises(CommandError) as excinfo:
        call_command("ingest", "litellm")
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith(bomb_server.url), message
    assert "larger than the 20,971,520-byte limit" in message, message
    run = IngestRun.objects.get()
    assert run.status == IngestRun.Status.FAILED and run.message == message
    assert not Snapshot.objects.exists()
    assert domain_dump() == before
