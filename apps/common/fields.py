"""An exact decimal column for money (invariant 5: money is exact).

PostgreSQL: plain ``numeric`` with no precision or scale, so a price is stored
with exactly the digits the source wrote (``NUMERIC(20,10)`` rounded 31 real
LiteLLM prices such as 15.000020000000002 USD per 1M tokens).

SQLite has no decimal type: a ``decimal`` column has NUMERIC affinity and SQLite
turns the value into a REAL (a binary float), so 15.000020000000002 comes back
as 15.000020000000003. Here the value is stored as TEXT instead, in a fixed-width,
zero-padded form (``INT_DIGITS`` integer digits, a point, ``FRACTION_DIGITS``
fraction digits). Two such strings compare byte by byte exactly as the numbers
compare, so SQL ``ORDER BY``, ``<``, ``=``, ``MIN``/``MAX`` and ``IS NULL`` stay
right without any decoding in SQL; SQLite's arithmetic still reads the text as a
number (leading zeros are fine), so ``F()`` arithmetic keeps working, as
approximately as it always did on SQLite. Lookups bind encoded values through
``get_db_prep_value``; rows read back are decoded in ``from_db_value``.

Only non-negative values are stored (prices never are negative; the parsers
refuse them). A negative lookup bound (``?x__gte=-1``) is still answered right:
it encodes as ``-`` followed by the nines' complement of its magnitude, which
sorts below every stored value and in numeric order among negatives.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from django.core import checks
from django.db import migrations, models
from django.db.backends.base.base import BaseDatabaseWrapper

# 10**20 USD per 1M tokens is far beyond the parsers' bound (10,000); 40 fraction
# digits hold 30 significant digits of a price as small as 1e-10 USD per 1M.
INT_DIGITS = 20
FRACTION_DIGITS = 40
ENCODED_WIDTH = INT_DIGITS + 1 + FRACTION_DIGITS
_NINES = str.maketrans("0123456789", "9876543210")
_ULP = Decimal(1).scaleb(-FRACTION_DIGITS)
_LIMIT = Decimal(10) ** INT_DIGITS
# Wide enough that quantizing any encodable value is exact.
_WIDE = Context(prec=INT_DIGITS + FRACTION_DIGITS + 10)


def encode_sortable(value: Decimal) -> str:
    """The fixed-width text whose byte order is the numeric order.

    Raises ValueError for values that would not round-trip exactly (too large,
    too many fraction digits, NaN/Infinity) rather than store them rounded.
    """
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value}")
    # copy_abs/compare are exact; abs() or normalize() would round to the 28-digit context.
    magnitude = value.copy_abs()
    exponent = magnitude.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if -exponent > FRACTION_DIGITS and magnitude != magnitude.quantize(_ULP, context=_WIDE):
        raise ValueError(f"{value} has more than {FRACTION_DIGITS} fraction digits; it cannot be stored exactly")
    if magnitude >= _LIMIT:
        raise ValueError(f"{value} has {INT_DIGITS} or more integer digits; it cannot be stored exactly")
    text = f"{magnitude:0{ENCODED_WIDTH}.{FRACTION_DIGITS}f}"
    if value < 0:
        return "-" + text.translate(_NINES)
    return text


def decode_sortable(text: str) -> Decimal:
    """The Decimal an ``encode_sortable`` text stands for, without padding zeros."""
    if text.startswith("-"):
        return -decode_sortable(text[1:].translate(_NINES))
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    whole = whole.lstrip("0") or "0"
    return Decimal(f"{whole}.{fraction}" if fraction else whole)


class ExactDecimalField(models.DecimalField):
    """A DecimalField without precision or scale that never rounds.

    Subclassing DecimalField keeps every ``isinstance`` consumer working (DRF's
    and django-filter's field mapping, admin display, type inference of ``F()``
    arithmetic and ``Avg``). ``max_digits``/``decimal_places`` are None: DRF then
    neither quantizes nor limits digits.
    """

    description = "Exact decimal number (numeric; sortable text on SQLite)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        super().__init__(*args, max_digits=None, decimal_places=None, **kwargs)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        # DecimalField's checks demand max_digits/decimal_places; having none is the point.
        return models.Field.check(self, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        # Not "DecimalField": on SQLite that name makes Django wrap aggregates and
        # functions over this column in CAST(... AS NUMERIC) and convert results
        # through a 15-digit float, which would undo the exact text. The column
        # type comes from db_type() below, so nothing else reads this name.
        return "ExactDecimalField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        if connection.vendor == "sqlite":
            return "text"
        return "numeric"

    def cast_db_type(self, connection: BaseDatabaseWrapper) -> str:
        return self.db_type(connection)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or hasattr(value, "as_sql"):
            return value
        if connection.vendor == "sqlite":
            return encode_sortable(value)
        return value

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        if hasattr(value, "as_sql"):
            return value
        prepared = self.get_prep_value(value)
        if isinstance(prepared, Decimal) and prepared < 0:
            # Only non-negative values keep SQLite's byte order and text arithmetic right.
            raise ValueError(f"{self.name}: negative money {prepared} is not stored")
        return self.get_db_prep_value(prepared, connection, prepared=True)

    def get_db_converters(self, connection: BaseDatabaseWrapper) -> list[Any]:
        # PostgreSQL's numeric arrives as an exact Decimal (or None) from the column and from any expression
        # over it, so from_db_value would hand every value back unchanged: called per value of every row (eight
        # money columns a price) it was a tenth of reading a chart's prices. SQLite's sortable text needs it.
        if connection.vendor == "postgresql":
            return []
        return super().get_db_converters(connection)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, str):
            return decode_sortable(value)
        if isinstance(value, Decimal):
            return value
        # A number computed by SQLite from the text (e.g. arithmetic typed as this
        # field): as exact as SQLite made it, read through its shortest repr.
        return Decimal(str(value))


def sqlite_reencode(*columns: tuple[str, str]) -> migrations.RunPython:
    """A migration step that rewrites existing SQLite money values into the sortable text.

    ``columns`` are ``(app_label.ModelName, field_name)``. Run after the
    AlterFields: SQLite's table rebuild has already copied each old REAL into the
    new TEXT column as SQLite prints it (up to 15 significant digits, e.g.
    ``1.5e-05``), which is all that is left of it; the exact value can only come
    back by re-parsing the stored snapshot. PostgreSQL needs nothing: ALTER ...
    TYPE numeric keeps every digit. Going back needs nothing either: SQLite reads
    the padded text as a number when it is copied into a NUMERIC column again.
    """

    def forwards(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        quote = connection.ops.quote_name
        for label, field_name in columns:
            model = apps.get_model(label)
            table = quote(model._meta.db_table)
            column = quote(model._meta.get_field(field_name).column)
            pk = quote(model._meta.pk.column)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
                rows = cursor.fetchall()
                updates = [
                    (encode_sortable(Decimal(str(value)).quantize(_ULP, context=_WIDE)), key)
                    for key, value in rows
                ]
                cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", updates)  # noqa: S608

    return migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)
