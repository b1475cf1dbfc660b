import pytest

from antifraud.records.validation import RecordError, _validator, record_problems, schema, validate_record


def fields(record):
    return [p.field for p in record_problems(record)]


def test_valid_record_passes(record):
    assert validate_record(record) is record


def test_schema_is_draft_07_and_shipped():
    from jsonschema import Draft7Validator

    assert schema()["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema())
    assert schema()["properties"]["schema"] == {"const": "acr/1"}


def test_unknown_version_is_refused_with_its_name(record):
    record["schema"] = "acr/2"
    with pytest.raises(RecordError, match="unknown record format 'acr/2'"):
        validate_record(record)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("subject", "merchant", "uscc"), "914403001922038217", "subject.merchant.uscc"),  # check character
        (("subject", "merchant", "uscc"), "91440300O0846113", "subject.merchant.uscc"),  # too short
        (("assessment", "confidence"), 101, "assessment.confidence"),
        (("assessment", "score"), "high", "assessment.score"),
        (("status",), "approved", "status"),
        (("created",), "2026-11-01 08:00:00", "created"),
        (("sharing", "level"), "white", "sharing.level"),
        (("assessment", "signals", 0, "population_percentile"), 140, "assessment.signals.0.population_percentile"),
        (("issuer", "role"), "hacker", "issuer.role"),
    ],
)
def test_hand_edited_field_is_named(record, path, value, field):
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert field in fields(record)


def test_unknown_and_missing_fields_are_named(record):
    record["subject"]["merchant"]["phone"] = "13800138000"
    del record["sharing"]
    problems = record_problems(record)
    text = " | ".join(map(str, problems))
    assert "subject.merchant" in text and "'phone'" in text
    assert 'sharing: "sharing" is a required property' in text


def test_subject_has_exactly_one_kind(record):
    record["subject"]["account"] = {"pseudonym": "ab" * 32, "key_id": "k", "id_kind": "phone", "platform": "p"}
    assert "subject" in fields(record)


def test_unreviewed_finding_is_never_list_entry_nor_shared_green(record):
    record["sharing"]["level"] = "green"
    assert fields(record) == ["sharing.level"]
    record["sharing"]["level"] = "amber"
    record["record_type"] = "list_entry"
    record["listing"] = {"list": "black", "listed_on": "2026-11-01", "publish_until": "2027-05-01"}
    assert fields(record) == ["record_type"]


def test_reviewed_finding_names_reviewer(record):
    record["assessment"]["human_reviewed"] = True
    assert fields(record) == ["assessment.reviewer"]
    record["assessment"]["reviewer"] = "analyst 7"
    record["sharing"]["level"] = "green"
    assert fields(record) == []


def test_personal_subjects_must_say_so(record):
    record["subject"]["merchant"].update(uscc="92350203MAEYBT2R6Y")  # 个体工商户: a natural person
    assert fields(record) == ["sharing.contains_personal_data"]


def test_uscc_check_must_agree_with_the_code(record):
    record["subject"]["merchant"]["uscc_check"] = "pilot_exception"
    assert fields(record) == ["subject.merchant.uscc_check"]
    record["subject"]["merchant"].update(uscc="91350211M0000XUF46")  # on the pilot list
    assert fields(record) == []


def test_chain_start_and_times(record):
    record["prev_hash"] = "00" * 32
    record["modified"] = "2026-10-01T00:00:00.000Z"
    record["behavior"]["period"]["start"] = "2026-12-01T00:00:00.000Z"
    assert set(fields(record)) >= {"prev_hash", "modified", "behavior.period"}


def test_listing_period_fits_severity(record):
    record["assessment"].update(human_reviewed=True, reviewer="r")
    record["record_type"] = "list_entry"
    record["determination"] = {"basis": "platform_rule", "authority": {"name": "platform-a"},
                               "decided_on": "2026-11-01", "measures": ["delist"], "severity": "general"}
    record["listing"] = {"list": "black", "listed_on": "2026-11-01", "publish_until": "2028-11-01"}
    assert fields(record) == ["listing.publish_until"]
    record["listing"]["publish_until"] = "2027-11-01"
    assert fields(record) == []


def test_huge_values_are_not_echoed(record):
    record["subject"]["merchant"]["name"] = "x" * 100_000
    (problem,) = record_problems(record)
    assert problem.field == "subject.merchant.name" and len(problem.message) <= 200


@pytest.mark.parametrize("value", [None, [], "acr/1", 3])
def test_non_objects_are_refused(value):
    assert record_problems(value)[0].field in ("", "schema")


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*path, i))
    else:
        yield path


@pytest.mark.parametrize("bad", [None, {}, -1, "", "x" * 600])
def test_validator_agrees_with_the_reference_implementation(record, bad):
    """jsonschema-rs (used) and the Python jsonschema package (the reference) accept the same records."""
    import copy

    from jsonschema import Draft7Validator

    reference = Draft7Validator(schema())
    for path in _leaves(record):
        mutated = copy.deepcopy(record)
        target = mutated
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        assert reference.is_valid(mutated) == _validator().is_valid(mutated), path


def _patterns(node, parent=None):
    """The field or definition name of every pattern in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield parent
            else:
                yield from _patterns(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item, parent)


def test_every_pattern_of_the_schema_has_its_words():
    from antifraud.records.validation import PATTERN_WORDS

    assert set(_patterns(schema())) == set(PATTERN_WORDS)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("subject", "merchant", "uscc"), "91440300O0846113IT",
         'subject.merchant.uscc: "91440300O0846113IT" is not a unified social credit code: 18 characters, digits and '
         "capital letters except I, O, S, V, Z"),
        (("created",), "2026-11-01", 'created: "2026-11-01" is not an RFC 3339 UTC time with milliseconds, e.g. '
                                     "2026-11-01T08:00:00.000Z"),
        (("sharing", "retention_until"), "2029/11/01",
         'sharing.retention_until: "2029/11/01" is not a date, YYYY-MM-DD, e.g. 2026-11-01'),
        (("status",), "held", 'status: "held" is not one of issued, amended, under_objection, repaired, revoked, '
                              "expired"),
    ],
)
def test_a_value_of_the_wrong_form_is_explained_in_words(record, path, value, message):
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = [str(p) for p in record_problems(record)]
    assert problems == [message]
    assert "^" not in problems[0] and "{" not in problems[0]
