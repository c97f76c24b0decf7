"""The shortcuts in the plain forms an apply records by the thousand: an address's text
(model/address.py) and a model value's plain form (model/snapshot.value_dict). Each must give
what the general way gives, on every kind of input."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

from reconciler.desired import load
from reconciler.model.address import Address, _render_part
from reconciler.model.snapshot import inventory, value_dict


def test_an_address_reads_as_its_parts_each_rendered():
    rng = random.Random(20261206)
    alphabet = ["a", "Z", "0", "_", "$", ":", "{", "}", "*", "@", "/", "-", ".", '"', " ", "é"]
    for _ in range(20000):
        parts = tuple(
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
            for _ in range(rng.randint(1, 5))
        )
        address = Address(parts)
        text = str(address)
        assert text == ".".join(_render_part(p) for p in parts), parts
        assert Address.parse(text) == address, parts


def _by_every_field(obj: Any) -> Any:
    """value_dict as first written: a call for every field, plain or not."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {
            f.name: _by_every_field(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if f.compare
        }
    if isinstance(obj, tuple | list):
        return [_by_every_field(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _by_every_field(v) for k, v in obj.items()}
    return obj


def test_a_model_value_plain_form_is_the_one_of_every_field():
    pg = load(Path("tests/fixtures/rich")).pg
    values = [*pg.tables.values(), *pg.indexes.values(), *pg.enums.values(), *pg.views.values()]
    values += [*pg.functions.values(), *pg.grants.values(), *pg.sequences.values()]
    values += [c for t in pg.tables.values() for c in (*t.columns, *t.constraints())]
    assert len(values) > 20
    for v in values:
        assert value_dict(v) == _by_every_field(v)
    assert inventory(pg)  # and the inventory is made of them
    assert value_dict({"k": (1, None, ("x", 2.5))}) == {"k": [1, None, ["x", 2.5]]}
