"""The type checks for options that YAML could turn from text into numbers or booleans."""

import datetime

import pytest

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils._options import text_list_option, text_option

# (value, how the message shows it)
NOT_TEXT = [
    (1.1, "the number 1.1"),
    (8, "the number 8"),
    (True, "the boolean true"),
    ({"name": "v1"}, 'the mapping {"name": "v1"}'),
    (["v1"], 'the list ["v1"]'),
    (datetime.date(2024, 1, 2), "the date datetime.date(2024, 1, 2)"),
]


@pytest.mark.parametrize("value", ["1.10", "010", "", "latest"])
def test_text_option_string_returned(value):
    assert text_option({"tag": value}, "tag") == value


def test_text_option_none_returned():
    assert text_option({"tag": None}, "tag") is None


@pytest.mark.parametrize("value, shown", NOT_TEXT)
def test_text_option_other_type_rejected(value, shown):
    with pytest.raises(InvalidInputError) as raised:
        text_option({"tag": value}, "tag")

    assert raised.value.msg.startswith("tag is %s, not a string. " % shown)
    assert "YAML reads unquoted values such as 1.10 (the number 1.1), 010 (the number 8)" in raised.value.msg
    assert raised.value.msg.endswith('Quote it in YAML, for example tag: "1.10".')


def test_text_list_option_strings_returned():
    assert text_list_option({"tags": ["1.10", "010"]}, "tags") == ["1.10", "010"]


def test_text_list_option_none_returned():
    assert text_list_option({"tags": None}, "tags") is None


def test_text_list_option_string_split_at_commas():
    assert text_list_option({"tags": "v1,v2"}, "tags") == ["v1", "v2"]


@pytest.mark.parametrize("value, shown", NOT_TEXT[:3])
def test_text_list_option_entry_rejected(value, shown):
    with pytest.raises(InvalidInputError) as raised:
        text_list_option({"protect": ["latest", value]}, "protect")

    assert raised.value.msg.startswith("protect[1] is %s, not a string. " % shown)
    assert raised.value.msg.endswith('Quote each entry in YAML, for example protect: ["1.10"].')


@pytest.mark.parametrize("value, shown", [(1.1, "the number 1.1"), ({"a": 1}, 'the mapping {"a": 1}')])
def test_text_list_option_scalar_rejected(value, shown):
    # Ansible's type=list would turn the number 1.1 into ["1.1"] without a trace.
    with pytest.raises(InvalidInputError) as raised:
        text_list_option({"tags": value}, "tags")

    assert raised.value.msg.startswith("tags is %s, not a list of strings. " % shown)
