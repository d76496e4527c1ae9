"""scrapers/ecb.py on the ECB's real layouts: the daily XML, the bundled history zip, the daily CSV."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import ecb
from scrapers.records import ParseError

DATA = Path(__file__).resolve().parent.parent / "fx" / "data"


def bundled(name: str) -> bytes:
    import currency_converter

    return (Path(currency_converter.__file__).parent / name).read_bytes()


def test_it_reads_the_daily_xml_exactly():
    result = ecb.parse((DATA / "eurofxref-daily.xml").read_bytes())
    rates = {r.currency: r.per_eur for r in result.records}
    assert len(rates) == 29 and not result.rejects
    assert {r.day for r in result.records} == {date(2026, 10, 30)}
    # Exactly as printed: trailing zeros kept as digits, no float on the way.
    assert rates["USD"] == Decimal("1.1172") and str(rates["GBP"]) == "0.83380"
    assert rates["IDR"] == Decimal("20275.17")
    assert result.observed_at == datetime(2026, 10, 30, tzinfo=UTC)


def test_it_reads_the_bundled_history_zip_with_dropped_currencies():
    result = ecb.parse(bundled("eurofxref-hist.zip"))
    assert not result.rejects
    by_key = {(r.day, r.currency): r.per_eur for r in result.records}
    assert by_key[(date(1999, 1, 4), "USD")] == Decimal("1.1789")
    assert by_key[(date(2026, 10, 30), "JPY")] == Decimal("175.68")
    # N/A is "not quoted that day", not a reject: RUB stops after 2022-03-01, HRK with the euro in Croatia.
    assert max(day for day, cur in by_key if cur == "RUB") == date(2022, 3, 1)
    assert max(day for day, cur in by_key if cur == "HRK") == date(2022, 12, 30)
    assert (date(2026, 10, 30), "RUB") not in by_key
    assert result.observed_at == datetime(2026, 10, 30, tzinfo=UTC)


def test_the_daily_csv_and_the_xml_of_one_day_agree():
    from_csv = {(r.day, r.currency): r.per_eur for r in ecb.parse(bundled("eurofxref.csv")).records}
    from_xml = {(r.day, r.currency): r.per_eur for r in ecb.parse((DATA / "eurofxref-daily.xml").read_bytes()).records}
    assert from_csv == from_xml


def test_a_bad_cell_is_a_reject_and_the_rest_goes_in():
    result = ecb.parse(b"Date,USD,JPY,xx,\n2024-03-01,1.10,abc,5,\n2024-03-02,-1,130,N/A,\nnot a day,1,1,1,\n")
    assert [(r.day, r.currency) for r in result.records] == [(date(2024, 3, 1), "USD"), (date(2024, 3, 2), "JPY")]
    reasons = sorted((r.locator, r.reason.split(" ")[0]) for r in result.rejects)
    assert reasons == [("2024-03-01 JPY", "rate"), ("2024-03-01 xx", "currency"), ("2024-03-02 USD", "rate"),
                       ("line 4", "date")]


@pytest.mark.parametrize("content, says", [
    (b"", "Date"),
    (b'{"USD": 1.1}', "Date"),
    (b"Date,USD,\n", "no exchange rate"),
    (b"<html><body>Not found</body></html>", "no exchange rate"),
    (b"<Cube><Cube time='2024-01-01'><Cube currency='USD' rate='1.1'/>", "cannot be parsed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DTD"),
    (b"PK\x03\x04garbage", "zip"),
])
def test_a_file_that_is_not_rates_fails_with_one_sentence(content, says):
    with pytest.raises(ParseError, match=says):
        ecb.parse(content)


def test_a_zip_bomb_is_refused_without_inflating_it(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("eurofxref-hist.csv", b"Date,USD,\n" + b"2024-01-01,1.1,\n" * 200_000)
    monkeypatch.setattr(ecb, "MAX_UNZIPPED_BYTES", 1_000_000)
    with pytest.raises(ParseError, match="inflates past"):
        ecb.parse(buffer.getvalue())
