"""``__any_of`` (apps.common.lookups): the rows ``__in`` gives, as one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest

from apps.catalog.models import Model, ModelAlias
from tests.conftest import get_source

pytestmark = pytest.mark.django_db

# Strings an array literal would have to quote or escape: the values travel as a list, quoted by psycopg.
AWKWARD = ["plain", 'say "hi"', "back\\slash", "a,b", "{braces}", "NULL", "", " spaced ", "ünïcode"]


@pytest.fixture
def catalog() -> dict[str, Model]:
    models = {slug or "(empty)": Model.objects.create(slug=slug, name=slug or "empty") for slug in AWKWARD}
    source = get_source("litellm")
    for i, model in enumerate([*models.values(), None, None]):
        ModelAlias.objects.create(source=source, raw_id=f"raw-{i}", model=model)
    return models


def ids(queryset) -> list[int]:
    return sorted(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize("values", [AWKWARD, AWKWARD[:1], ["plain", "plain", None], ["absent"], set(AWKWARD[2:5])])
def test_strings_match_what_in_matches(catalog, values):
    expected = ids(Model.objects.filter(slug__in=values))
    assert ids(Model.objects.filter(slug__any_of=values)) == expected
    assert bool(expected) == (values != ["absent"])


def test_integer_keys_and_foreign_keys_match_what_in_matches(catalog):
    pks = [m.pk for m in catalog.values()]
    for values in (pks, pks[:3], (pks[0], pks[0], None), {pks[1], pks[4]}, [max(pks) + 1000]):
        assert ids(Model.objects.filter(pk__any_of=values)) == ids(Model.objects.filter(pk__in=values))
        assert ids(ModelAlias.objects.filter(model_id__any_of=values)) == ids(
            ModelAlias.objects.filter(model_id__in=values))
        assert ids(ModelAlias.objects.filter(model__any_of=values)) == ids(ModelAlias.objects.filter(model__in=values))
    # Through a join, as the market's read of evidence uses it.
    assert ids(ModelAlias.objects.filter(model__slug__any_of=["plain", "a,b"])) == ids(
        ModelAlias.objects.filter(model__slug__in=["plain", "a,b"]))
    assert len(ids(ModelAlias.objects.filter(model_id__any_of=pks))) == len(pks)


@pytest.mark.parametrize("values", [[], [None], set()])
def test_nothing_to_match_matches_nothing_as_in_does(catalog, values):
    assert ids(Model.objects.filter(pk__any_of=values)) == [] == ids(Model.objects.filter(pk__in=values))
    assert ids(Model.objects.filter(slug__any_of=values)) == []
    # Negated: everything, as ~Q(pk__in=[]) gives.
    assert ids(Model.objects.exclude(pk__any_of=values)) == ids(Model.objects.all())


def test_a_value_of_the_wrong_kind_is_refused_not_converted(catalog):
    with pytest.raises(TypeError, match="list, tuple or set"):
        Model.objects.filter(pk__any_of=Model.objects.values("pk"))
    with pytest.raises(TypeError, match="list, tuple or set"):
        Model.objects.filter(pk__any_of=5)
    with pytest.raises(TypeError):
        Model.objects.filter(pk__any_of=["5"])  # __in would have turned it into 5
    with pytest.raises(TypeError):
        Model.objects.filter(pk__any_of=[1.5])


def test_on_postgresql_the_values_are_one_parameter_and_the_statement_text_does_not_grow(catalog, postgres):
    pks = [m.pk for m in catalog.values()]
    sql_few, params_few = Model.objects.filter(pk__any_of=pks[:2]).values_list("pk").query.sql_with_params()
    sql_many, params_many = Model.objects.filter(pk__any_of=pks).values_list("pk").query.sql_with_params()
    assert sql_few == sql_many and '"catalog_model"."id" = ANY(%s::bigint[])' in sql_few
    assert len(params_few) == len(params_many) == 1
    sql, params = Model.objects.filter(slug__any_of=AWKWARD).values_list("pk").query.sql_with_params()
    assert '"catalog_model"."slug" = ANY(%s::varchar(200)[])' in sql and params == (AWKWARD,)
