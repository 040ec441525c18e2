"""The strings that grow by deltas, one by one: every TextBuffer-backed field of
every model class, found by introspection (a new one is covered without being
listed here), behaves as a plain ``str`` (or ``str | None``) attribute under its
public name, while the accumulator appends to the private buffer."""

from __future__ import annotations

import copy
import importlib
import pickle
import pkgutil
import sys
from typing import Any

import attrs
import pytest

import streamrun
import streamrun._models
from streamrun._converter import converter
from streamrun._models import TextBuffer


def _model_classes() -> list[type]:
    """Every attrs class defined in a streamrun module (all of them imported)."""
    modules = [streamrun]
    for info in pkgutil.walk_packages(streamrun.__path__, "streamrun."):
        if not info.name.endswith(".__main__"):
            modules.append(importlib.import_module(info.name))
    found: dict[str, type] = {}
    for module in modules:
        for value in vars(module).values():
            module_name = module.__name__
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module_name:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


def _evaluated(annotation: Any, cls: type) -> Any:
    """A field's annotation (a string under ``from __future__ import annotations``)
    as a type; ``None`` where it names what its module does not (TYPE_CHECKING imports)."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, vars(sys.modules[cls.__module__]))
    except (NameError, TypeError, AttributeError):
        return None


def _text_fields() -> list[tuple[type, attrs.Attribute[Any], bool]]:
    """``(class, private attribute, optional)`` for each field whose declared type
    is ``TextBuffer`` or ``TextBuffer | None``."""
    out = []
    for cls in _model_classes():
        for a in attrs.fields(cls):
            hint = _evaluated(a.type, cls)
            if hint is TextBuffer:
                out.append((cls, a, False))
            elif hint == (TextBuffer | None):
                out.append((cls, a, True))
    return out


TEXT_FIELDS = _text_fields()


def _id(case: tuple[type, attrs.Attribute[Any], bool]) -> str:
    return f"{case[0].__name__}.{case[1].alias}"


def test_the_introspection_finds_the_known_fields() -> None:
    # A guard for the introspection itself: these are the fields at the time of
    # writing; more may come.
    found = {(cls.__name__, a.name) for cls, a, _ in TEXT_FIELDS}
    assert {
        ("Text", "_value"),
        ("RefusalContentBlock", "_refusal"),
        ("FileCitationAnnotation", "_text"),
        ("FilePathAnnotation", "_text"),
        ("FileCitation", "_quote"),
        ("FunctionCall", "_name"),
        ("FunctionCall", "_arguments"),
        ("FunctionCall", "_output"),
        ("CodeInterpreter", "_input"),
        ("CodeInterpreterLogs", "_logs"),
    } <= found
    assert {(cls.__name__, a.name) for cls, a, optional in TEXT_FIELDS if optional} >= {
        ("FileCitation", "_quote"),
        ("FunctionCall", "_output"),
    }


@pytest.fixture(params=TEXT_FIELDS, ids=_id)
def case(request: pytest.FixtureRequest) -> tuple[type, str, str, bool]:
    cls, a, optional = request.param
    return cls, a.name, a.alias, optional


def test_declared_as_a_private_buffer_under_its_public_alias(
    case: tuple[type, str, str, bool],
) -> None:
    cls, private, public, optional = case
    assert private == "_" + public
    a = attrs.fields_dict(cls)[private]
    assert a.init and a.eq and a.repr is False
    assert isinstance(vars(cls)[public], property)
    assert vars(cls)[public].__doc__
    default = cls()
    if optional:
        assert getattr(default, private) is None and getattr(default, public) is None
    else:
        assert type(getattr(default, private)) is TextBuffer
        assert getattr(default, public) == "" and type(getattr(default, public)) is str


def test_constructor_getter_setter_and_buffer(case: tuple[type, str, str, bool]) -> None:
    cls, private, public, optional = case
    obj = cls(**{public: "ab"})
    assert getattr(obj, public) == "ab" and type(getattr(obj, public)) is str
    buffer = getattr(obj, private)
    assert type(buffer) is TextBuffer and str(buffer) == "ab"

    # The accumulator appends to the private buffer; the getter shows it.
    buffer.append("c")
    buffer.append("d")
    assert getattr(obj, public) == "abcd"

    # A snapshot keeps the text as it was when the setter replaces it.
    snapshot = buffer.snapshot()
    setattr(obj, public, "new")
    assert getattr(obj, public) == "new" and type(getattr(obj, public)) is str
    assert str(getattr(obj, private)) == "new"
    assert str(snapshot) == "abcd"
    if not optional:
        assert getattr(obj, private) is buffer  # replaced in place
    else:
        setattr(obj, public, None)
        assert getattr(obj, public) is None and getattr(obj, private) is None
        setattr(obj, public, "")
        assert getattr(obj, public) == "" and type(getattr(obj, private)) is TextBuffer

    # A TextBuffer given to the constructor is kept, not copied.
    given = TextBuffer("x")
    assert getattr(cls(**{public: given}), private) is given
    with pytest.raises(TypeError):
        cls(**{public: 5})


def test_repr_shows_the_public_name(case: tuple[type, str, str, bool]) -> None:
    cls, private, public, _ = case
    obj = cls(**{public: "it's"})
    getattr(obj, private).append(" here")
    text = repr(obj)
    assert text.startswith(f"{cls.__name__}(")
    assert f'{public}="it\'s here"' in text
    assert f"{private}=" not in text
    # Every other field shows as attrs shows it, and the repr rebuilds the object.
    for a in attrs.fields(cls):
        if a.name != private and a.repr:
            assert f"{a.name}={getattr(obj, a.name)!r}" in text
    assert eval(text, vars(streamrun._models)) == obj


def test_evolve_equality_and_copies(case: tuple[type, str, str, bool]) -> None:
    cls, private, public, _ = case
    obj = cls(**{public: "old"})
    changed = attrs.evolve(obj, **{public: "new"})
    assert getattr(changed, public) == "new" and getattr(obj, public) == "old"
    assert changed != obj and changed == cls(**{public: "new"})
    assert attrs.evolve(obj) == obj
    # Equality compares the text, however the buffers hold it.
    grown = cls(**{public: "ol"})
    getattr(grown, private).append("d")
    assert grown == obj
    with pytest.raises(TypeError):
        hash(obj)
    for copied in (copy.deepcopy(obj), copy.copy(obj), pickle.loads(pickle.dumps(obj))):
        assert copied == obj and repr(copied) == repr(obj)
        assert type(getattr(copied, private)) is TextBuffer


def test_converter_round_trip(case: tuple[type, str, str, bool]) -> None:
    cls, private, public, optional = case
    obj = cls(**{public: "text"})
    getattr(obj, private).append(" more")
    data = converter.unstructure(obj)
    assert data[public] == "text more" and private not in data
    back: Any = converter.structure(data, cls)
    assert back == obj and converter.unstructure(back) == data
    assert type(getattr(back, private)) is TextBuffer
    if optional:
        empty: Any = converter.structure({**data, public: None}, cls)
        assert getattr(empty, public) is None
        assert converter.unstructure(empty)[public] is None
