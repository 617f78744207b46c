"""Property-based tests of the validators and the WWW-Authenticate parser.

Valid values are generated from the distribution reference grammar, written out here
on its own rather than taken from the module under test.
"""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.oci.registry.plugins.module_utils._auth import (
    Challenge,
    parse_challenges,
    select_challenge,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_registry,
    validate_repository,
    validate_tag,
)

HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits


def interleave(runs, separators):
    parts = [runs[0]]
    for separator, run in zip(separators, runs[1:]):
        parts.extend((separator, run))
    return "".join(parts)


# A path component is [a-z0-9]+ runs joined by '.', '_', '__' or one or more '-'.
alnum_runs = st.text(LOWER_ALNUM, min_size=1, max_size=8)
component_separators = st.sampled_from([".", "_", "__"]) | st.integers(1, 3).map(lambda count: "-" * count)
path_components = st.lists(alnum_runs, min_size=1, max_size=4).flatmap(
    lambda runs: st.lists(component_separators, min_size=len(runs) - 1, max_size=len(runs) - 1).map(
        lambda separators: interleave(runs, separators)
    )
)
repositories = st.lists(path_components, min_size=1, max_size=6).map("/".join).filter(lambda name: len(name) <= 255)
TAG_FIRST = string.ascii_letters + string.digits + "_"
tags = st.builds(
    lambda first, rest: first + rest, st.sampled_from(TAG_FIRST), st.text(TAG_FIRST + ".-", max_size=127)
)
digests = st.sampled_from([("sha256", 64), ("sha512", 128)]).flatmap(
    lambda pair: st.text(HEX, min_size=pair[1], max_size=pair[1]).map(lambda encoded: pair[0] + ":" + encoded)
)
LABEL_EDGE = string.ascii_letters + string.digits
labels = st.one_of(
    st.sampled_from(LABEL_EDGE),
    st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(LABEL_EDGE), st.text(LABEL_EDGE + "-", max_size=61), st.sampled_from(LABEL_EDGE),
    ),
)
hostnames = st.lists(labels, min_size=1, max_size=4).map(".".join).filter(lambda name: len(name) <= 253)
hosts = st.one_of(
    hostnames,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: "[%s]" % address),
)
registries = st.tuples(hosts, st.none() | st.integers(1, 65535)).map(
    lambda pair: pair[0] if pair[1] is None else "%s:%d" % pair
)

# Text near the grammar finds more edge cases than uniform Unicode alone.
near_grammar = st.text(alphabet=string.ascii_letters + string.digits + "._-/:@[]%\n \t\u00b2\uff15", max_size=80)
any_text = st.one_of(st.text(max_size=300), near_grammar)

VALIDATORS = (validate_repository, validate_tag, validate_digest, validate_registry)


@given(repositories)
def test_validate_repository_accepts_grammar(name):
    assert validate_repository(name) == name


@given(tags)
def test_validate_tag_accepts_grammar(tag):
    assert validate_tag(tag) == tag


@given(digests)
def test_validate_digest_accepts_grammar(digest):
    assert validate_digest(digest) == digest


@given(registries)
def test_validate_registry_accepts_grammar(registry):
    assert validate_registry(registry) == registry


@settings(max_examples=300)
@given(st.sampled_from(VALIDATORS), any_text)
def test_validators_arbitrary_text(validator, text):
    try:
        result = validator(text)
    except InvalidInputError as error:
        assert error.msg
    else:
        assert result == text
        # A passing value goes into a URL path or host as it is.
        assert text.isascii()
        assert text.isprintable()
        assert not any(character.isspace() for character in text)


@settings(max_examples=300)
@given(any_text)
def test_parse_challenges_arbitrary_text_never_raises(text):
    challenges = parse_challenges(text)

    assert isinstance(challenges, list)
    for challenge in challenges:
        assert isinstance(challenge, Challenge)
        assert challenge.scheme == challenge.scheme.lower()
        assert all(name == name.lower() for name in challenge.params)
    select_challenge(challenges)


header_tokens = st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=12)
quoted_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=40
)


def quote(value):
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


@given(
    st.lists(header_tokens, min_size=1, max_size=3, unique_by=str.lower),
    st.data(),
)
def test_parse_challenges_quoted_values_round_trip(names, data):
    params = {name.lower(): data.draw(quoted_values) for name in names}
    header = "Bearer " + ", ".join("%s=%s" % (name, quote(value)) for name, value in params.items())

    assert parse_challenges(header) == [Challenge("bearer", params)]
