"""``field__any_of=values``: ``IN`` for long lists of keys, as one array parameter on PostgreSQL.

An ingest narrows its reads to what one snapshot touched: ~900 providers and models for the market's
evidence, ~800 model slugs for identity. Written as ``__in``, each value is its own placeholder: Django
prepares and compiles them one by one (a foreign key's through its target field), psycopg splits the
~6 kB statement at each placeholder on every run (a statement that long is past its parse cache), and
PostgreSQL parses the literal list. As ``column = ANY(%s::type[])`` the statement is short and its text
the same whatever the values, the list one parameter; integer keys go as one array literal
(:func:`integer_array`, as the API's rows by id do). PostgreSQL plans both forms alike:
it reads ``IN (...)`` as ``= ANY(ARRAY[...])``. Figures: bench/README.md, "ingest, ninth pass".

Other databases get Django's own ``IN``. As with ``__in``, None never matches and an empty list matches
nothing. Plain values only, in a list, tuple or set: a subquery or expression stays ``__in``.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import index
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.lookups import In

INTEGER_TYPES = frozenset({"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                           "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                           "PositiveSmallIntegerField"})


def integer_array(values: Iterable[int]) -> str:
    """PostgreSQL's text for an array of integers (``{1,2,3}``), cast in the SQL (``%s::bigint[]``).

    psycopg's list dumper adapts the list element by element, which for 100 ids was a tenth of an API page's
    Python; one string of the numbers is sent as it is. Each value goes through int(), so nothing but digits
    and a sign reaches the SQL."""
    return "{" + ",".join(map(str, map(int, values))) + "}"


def _integer_keyed(field: Field) -> bool:
    target = getattr(field, "target_field", field)  # a foreign key compares its target's values
    return target.get_internal_type() in INTEGER_TYPES


class AnyOf(In):
    lookup_name = "any_of"

    def get_prep_lookup(self) -> Any:
        if not isinstance(self.rhs, list | tuple | set | frozenset):
            raise TypeError(f"any_of takes a list, tuple or set of values, not {type(self.rhs).__name__}")
        if _integer_keyed(self.lhs.output_field):
            # Each value as an integer, in C, without the field's call chain per value (a foreign key's goes
            # through its target field); a string or float is a TypeError here rather than converted.
            return [None if v is None else index(v) for v in self.rhs]
        return super().get_prep_lookup()

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [v for v in self.rhs if v is not None]
        if not values:
            raise EmptyResultSet
        # The column's own type for the array (a foreign key's db_type is its target's): psycopg would otherwise
        # pick int2[] or int4[] from the values, and strings need a type.
        array = f"%s::{field.db_type(connection)}[]"
        if _integer_keyed(field):
            return f"{lhs} = ANY({array})", (*lhs_params, integer_array(values))
        prepared = [field.get_db_prep_value(v, connection, prepared=True) for v in values]
        return f"{lhs} = ANY({array})", (*lhs_params, prepared)


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)
