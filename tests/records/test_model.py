"""The typed model and the shipped JSON Schema describe the same record."""

import typing

import pytest

from antifraud.records import model
from antifraud.records.validation import schema


def _resolve(node):
    while "$ref" in node:
        node = schema()["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _pairs():
    """(TypedDict, schema object) for every object of the schema, found by walking both."""
    out = [(model.Record, schema())]
    seen = 0
    while seen < len(out):
        cls, node = out[seen]
        seen += 1
        hints = typing.get_type_hints(cls)
        for name, sub in node.get("properties", {}).items():
            sub = _resolve(sub)
            hint = hints[name]
            if typing.get_origin(hint) is list and sub.get("type") == "array":
                hint, sub = typing.get_args(hint)[0], _resolve(sub["items"])
            if typing.is_typeddict(hint) and sub.get("type") == "object" and hint not in [c for c, _ in out]:
                out.append((hint, sub))
    return out


@pytest.mark.parametrize(("cls", "node"), _pairs(), ids=lambda x: getattr(x, "__name__", ""))
def test_fields_and_required_fields_match(cls, node):
    assert set(typing.get_type_hints(cls)) == set(node["properties"]), cls.__name__
    if cls is not model.Subject:  # exactly one of three, expressed by min/maxProperties
        assert cls.__required_keys__ == set(node.get("required", [])), cls.__name__


def test_every_object_of_the_schema_has_a_class():
    assert len(_pairs()) >= 20


@pytest.mark.parametrize(
    ("literal", "path"),
    [
        (model.RecordType, ["properties", "record_type"]),
        (model.Status, ["properties", "status"]),
        (model.SharingLevel, ["properties", "sharing", "properties", "level"]),
        (model.Category, ["properties", "behavior", "properties", "category"]),
        (model.Role, ["definitions", "role"]),
        (model.IdKind, ["definitions", "account", "properties", "id_kind"]),
        (model.Relation, ["definitions", "edge", "properties", "relation"]),
        (model.EventType, ["properties", "events", "items", "properties", "type"]),
    ],
)
def test_enumerations_match(literal, path):
    node = schema()
    for key in path:
        node = node[key]
    assert set(typing.get_args(literal)) == set(node["enum"])
