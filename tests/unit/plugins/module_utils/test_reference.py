"""Tests of the input validators: every invalid value fails with a message naming it."""

import pytest

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    split_host_port,
    validate_digest,
    validate_registry,
    validate_repository,
    validate_tag,
)

HEX64 = "0123456789abcdef" * 4
HEX128 = HEX64 * 2

VALID = [
    (validate_repository, "app"),
    (validate_repository, "team/app"),
    (validate_repository, "a/b/c/d"),
    (validate_repository, "my-team__x/app.v2_beta"),
    (validate_repository, "a--b"),
    (validate_repository, "a" * 255),
    (validate_tag, "v1.2.0"),
    (validate_tag, "_private"),
    (validate_tag, "Latest-RC.1"),
    (validate_tag, "a" * 128),
    (validate_digest, "sha256:" + HEX64),
    (validate_digest, "sha512:" + HEX128),
    (validate_registry, "registry.example.com"),
    (validate_registry, "registry.example.com:443"),
    (validate_registry, "localhost:5000"),
    (validate_registry, "127.0.0.1:5000"),
    (validate_registry, "[::1]:5000"),
    (validate_registry, "[2001:db8::1]"),
    (validate_registry, "my-registry"),
]

# (validator, value, fragment the message must contain)
INVALID = [
    (validate_repository, "", "repository is empty"),
    (validate_repository, "Team/App", "repository 'Team/App' is invalid"),
    (validate_repository, "Team/App", "must be lowercase"),
    (validate_repository, "team/app:v1", "Put a tag in the 'tag' option"),
    (validate_repository, "team/app@sha256:" + HEX64, "digest in the 'digest' option"),
    (validate_repository, "/team/app", "repository '/team/app' is invalid"),
    (validate_repository, "team//app", "repository 'team//app' is invalid"),
    (validate_repository, "team/app/", "repository 'team/app/' is invalid"),
    (validate_repository, "-app", "repository '-app' is invalid"),
    (validate_repository, "a___b", "repository 'a___b' is invalid"),
    (validate_repository, "team/app\n", "repository 'team/app\\n' is invalid"),
    (validate_repository, "registry.example.com:5000/app", "Put a tag"),
    (validate_repository, "a" * 256, "is 256 characters long: the maximum is 255"),
    (validate_tag, "", "tag is empty"),
    (validate_tag, "-v1", "tag '-v1' is invalid"),
    (validate_tag, ".hidden", "tag '.hidden' is invalid"),
    (validate_tag, "v1/2", "tag 'v1/2' is invalid"),
    (validate_tag, "v1:2", "tag 'v1:2' is invalid"),
    (validate_tag, "v1\n", "tag 'v1\\n' is invalid"),
    (validate_tag, "a" * 129, "is invalid: expected 1 to 128 characters"),
    (validate_tag, "vé", "tag 'vé' is invalid"),
    (validate_digest, "", "digest is empty"),
    (validate_digest, "md5:" + "0" * 32, "uses the unsupported algorithm 'md5'"),
    (validate_digest, "sha384:" + "0" * 96, "unsupported algorithm 'sha384'"),
    (validate_digest, "sha256:" + HEX64[:-1], "sha256 digests have exactly 64 lowercase hex digits"),
    (validate_digest, "sha256:" + HEX64 + "0", "exactly 64 lowercase hex digits"),
    (validate_digest, "sha512:" + HEX64, "sha512 digests have exactly 128 lowercase hex digits"),
    (validate_digest, "sha256:" + HEX64.upper(), "digest 'sha256:0123456789ABCDEF"),
    (validate_digest, "sha256:" + HEX64.upper(), "lowercase hex"),
    (validate_digest, "sha256:" + "g" * 64, "lowercase hex"),
    (validate_digest, "SHA256:" + HEX64, "digest 'SHA256:"),
    (validate_digest, HEX64, "expected '<algorithm>:<hex>'"),
    (validate_digest, "sha256:", "expected '<algorithm>:<hex>'"),
    (validate_digest, "sha256:" + HEX64 + "\n", "expected '<algorithm>:<hex>'"),
    (validate_registry, "", "registry is empty"),
    (validate_registry, "https://registry.example.com", "registry 'https://registry.example.com' has a scheme"),
    (validate_registry, "https://registry.example.com", "set plain_http=true"),
    (validate_registry, "registry.example.com/team", "has a path or user part"),
    (validate_registry, "user@registry.example.com", "has a path or user part"),
    (validate_registry, "registry.example.com?x=1", "has a path or user part"),
    (validate_registry, "registry.example.com:0", "invalid port '0'"),
    (validate_registry, "registry.example.com:65536", "invalid port '65536'"),
    (validate_registry, "registry.example.com:http", "invalid port 'http'"),
    (validate_registry, "registry.example.com:\u00b2", "invalid port '\u00b2'"),
    (validate_registry, "registry.example.com:\uff15\uff10\uff10\uff10", "invalid port"),
    (validate_registry, "registry.example.com:", "invalid port ''"),
    (validate_registry, "registry.example.com\n", "has an invalid host 'registry.example.com\\n'"),
    (validate_registry, "-bad.example.com", "has an invalid host '-bad.example.com'"),
    (validate_registry, "bad..example.com", "has an invalid host"),
    (validate_registry, "bad_host", "has an invalid host 'bad_host'"),
    (validate_registry, " registry.example.com", "has an invalid host"),
    (validate_registry, "[::1", "has an invalid host '[::1'"),
    (validate_registry, "[not-ipv6]:5000", "has an invalid host '[not-ipv6]'"),
    (validate_registry, "[fe80::1%eth0]", "has an invalid host '[fe80::1%eth0]'"),
    (validate_registry, "::1", "has an invalid host '::1'"),
    (validate_registry, "a" * 64 + ".example.com", "has an invalid host"),
]


@pytest.mark.parametrize("validator, value", VALID, ids=["%s:%s" % (v.__name__, x[:40]) for v, x in VALID])
def test_validators_accept_valid(validator, value):
    assert validator(value) == value


@pytest.mark.parametrize(
    "validator, value, fragment", INVALID, ids=["%s:%r" % (v.__name__, x[:40]) for v, x, _unused in INVALID]
)
def test_validators_reject_invalid(validator, value, fragment):
    with pytest.raises(InvalidInputError) as raised:
        validator(value)

    assert fragment in raised.value.msg


@pytest.mark.parametrize("registry, expected", [
    ("registry.example.com", ("registry.example.com", None)),
    ("registry.example.com:5000", ("registry.example.com", "5000")),
    ("[::1]:5000", ("[::1]", "5000")),
    ("[::1]", ("[::1]", None)),
    ("::1", ("::1", None)),
])
def test_split_host_port_table(registry, expected):
    assert split_host_port(registry) == expected
