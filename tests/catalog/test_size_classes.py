"""Size classes as people read them: by size, with short labels."""

from decimal import Decimal

from apps.catalog.identity import ModelIdentity, size_class
from apps.catalog.size_classes import SIZE_CLASSES, size_class_choices, size_class_label


def test_it_orders_the_picker_by_size_not_alphabetically():
    stored = ["300b-plus-class", "40-65b-class", "7-8b-class", "frontier-closed", "70b-class", "10-20b-class"]
    assert size_class_choices(stored) == [("7-8b-class", "7–8B"), ("10-20b-class", "10–20B"),
                                          ("40-65b-class", "40–65B"), ("70b-class", "70B"),
                                          ("300b-plus-class", "300B+"), ("frontier-closed", "Frontier (closed)")]


def test_it_shows_a_class_it_does_not_know_as_stored_after_the_known_ones():
    assert size_class_label("exotic-class") == "exotic-class"
    assert size_class_choices(["exotic-class", "small"])[-1] == ("exotic-class", "exotic-class")


def test_it_labels_every_class_identity_assigns():
    fields = ModelIdentity.__dataclass_fields__
    known = {slug for slug, _, _ in SIZE_CLASSES}
    base = dict.fromkeys(fields, "")
    base.update(slug="m", parameter_count_b=None)
    for extra in ({"parameter_count_b": Decimal(p)} for p in (1, 8, 13, 34, 47, 70, 141, 405)):
        assert size_class(ModelIdentity(**{**base, **extra})) in known
    assert size_class(ModelIdentity(**base)) in known  # closed, size not published
