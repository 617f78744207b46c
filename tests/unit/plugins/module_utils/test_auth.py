"""Tests of the pure auth helpers: WWW-Authenticate parsing, realm safety, scopes."""

import pytest

from ansible_collections.oci.registry.plugins.module_utils._auth import (
    Challenge,
    is_local_host,
    merge_scopes,
    parse_challenges,
    select_challenge,
    unsafe_realm_reason,
)

REALM = "https://auth.example.test/token"

# (case name, header value, parsed challenges, scheme select_challenge picks or None)
CHALLENGE_TABLE = [
    (
        # Two header lines arrive joined with ", " (RFC 9110 section 5.3).
        "two_header_lines",
        'Negotiate, Basic realm="corp"',
        [Challenge("negotiate", {}), Challenge("basic", {"realm": "corp"})],
        "basic",
    ),
    (
        "basic_and_bearer_in_one_line",
        'Basic realm="corp", Bearer realm="https://a.test/token",service="r"',
        [
            Challenge("basic", {"realm": "corp"}),
            Challenge("bearer", {"realm": "https://a.test/token", "service": "r"}),
        ],
        "bearer",
    ),
    (
        "unknown_schemes_skipped",
        'Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag==, NTLM, Digest realm="x", nonce="abc", Bearer realm="%s"' % REALM,
        [
            Challenge("negotiate", {"": "YIIBhgYGKwYBBQUCoIIBejCCAXag=="}),
            Challenge("ntlm", {}),
            Challenge("digest", {"realm": "x", "nonce": "abc"}),
            Challenge("bearer", {"realm": REALM}),
        ],
        "bearer",
    ),
    (
        "only_unknown_schemes",
        'Negotiate, Digest realm="x", qop="auth"',
        [Challenge("negotiate", {}), Challenge("digest", {"realm": "x", "qop": "auth"})],
        None,
    ),
    (
        "quoted_comma_in_scope",
        'Bearer realm="%s",service="r",scope="repository:team/app:pull,push"' % REALM,
        [Challenge("bearer", {"realm": REALM, "service": "r", "scope": "repository:team/app:pull,push"})],
        "bearer",
    ),
    (
        "scheme_and_names_case_insensitive",
        'BEARER Realm="%s", SERVICE="Registry"' % REALM,
        [Challenge("bearer", {"realm": REALM, "service": "Registry"})],
        "bearer",
    ),
    (
        "no_service",
        'Bearer realm="%s",scope="repository:team/app:pull"' % REALM,
        [Challenge("bearer", {"realm": REALM, "scope": "repository:team/app:pull"})],
        "bearer",
    ),
    (
        "plugin_scope_kept",
        'Bearer realm="%s",scope="repository(plugin):vendor/tool:pull"' % REALM,
        [Challenge("bearer", {"realm": REALM, "scope": "repository(plugin):vendor/tool:pull"})],
        "bearer",
    ),
    (
        "escapes_in_quoted_strings",
        r'Bearer realm="https://a.test/to\"ken",service="back\\slash",scope="\r\e\p"',
        [Challenge("bearer", {"realm": 'https://a.test/to"ken', "service": "back\\slash", "scope": "rep"})],
        "bearer",
    ),
    (
        "empty_list_elements",
        'Bearer realm="%s",, ,service="r" ,,' % REALM,
        [Challenge("bearer", {"realm": REALM, "service": "r"})],
        "bearer",
    ),
    (
        "spaces_around_equals",
        'Bearer realm = "%s" , service = r' % REALM,
        [Challenge("bearer", {"realm": REALM, "service": "r"})],
        "bearer",
    ),
    (
        "unquoted_url_value",
        "Bearer realm=%s,service=r" % REALM,
        [Challenge("bearer", {"realm": REALM, "service": "r"})],
        "bearer",
    ),
    (
        "first_duplicate_parameter_wins",
        'Bearer realm="%s",realm="https://other.test/token"' % REALM,
        [Challenge("bearer", {"realm": REALM})],
        "bearer",
    ),
    (
        "error_parameter",
        'Bearer realm="%s",error="insufficient_scope"' % REALM,
        [Challenge("bearer", {"realm": REALM, "error": "insufficient_scope"})],
        "bearer",
    ),
]

MALFORMED_HEADERS = [
    "",
    "   ",
    ",,,",
    "=",
    '"',
    "\\",
    'Bearer realm="unterminated',
    'Bearer realm="ends with backslash\\',
    "Bearer =value",
    "Bearer realm=",
    'Bearer realm="a" garbage here, service="b"',
    'Bearer realm="a",=,service="b"',
    "Bearer \x00\x01\x7f",
    "Bearer réalm=\"ü\"",
    '"Bearer" realm="x"',
    "Basic realm=corp=x",
    "Bearer realm=\"a\"\tservice=\"b\"",
    ", Bearer",
    "Bearer ,realm=\"a\"",
]


@pytest.mark.parametrize(
    "header, expected, selected",
    [row[1:] for row in CHALLENGE_TABLE],
    ids=[row[0] for row in CHALLENGE_TABLE],
)
def test_parse_challenges_table(header, expected, selected):
    challenges = parse_challenges(header)

    assert challenges == expected
    choice = select_challenge(challenges)
    assert (choice.scheme if choice else None) == selected


@pytest.mark.parametrize("header", MALFORMED_HEADERS)
def test_parse_challenges_malformed_never_raises(header):
    challenges = parse_challenges(header)

    assert isinstance(challenges, list)
    assert all(isinstance(item, Challenge) for item in challenges)
    select_challenge(challenges)


def test_parse_challenges_none_is_empty():
    assert parse_challenges(None) == []


def test_parse_challenges_garbage_after_value_skipped():
    assert parse_challenges('Bearer realm="a" garbage here, service="b"') == [
        Challenge("bearer", {"realm": "a", "service": "b"})
    ]


def test_parse_challenges_unterminated_quote_runs_to_end():
    assert parse_challenges('Bearer realm="https://a.test/token, service=r') == [
        Challenge("bearer", {"realm": "https://a.test/token, service=r"})
    ]


REALM_TABLE = [
    # (case name, realm, URL of the server that sent the challenge, reason fragment or None)
    ("https_to_https", "https://auth.example.test/token", "https://registry.example.test:443", None),
    ("http_registry_http_realm", "http://auth.example.test/token", "http://registry.example.test:80", None),
    ("http_registry_https_realm", "https://auth.example.test/token", "http://registry.example.test:80", None),
    ("local_registry_local_realm", "http://127.0.0.1:5001/token", "http://127.0.0.1:5000", None),
    ("local_name_registry_loopback_realm", "https://[::1]:5001/token", "https://localhost:5000", None),
    ("https_downgraded", "http://auth.example.test/token", "https://registry.example.test:443", "plain http"),
    ("https_downgraded_local", "http://127.0.0.1/token", "https://127.0.0.1:5000", "plain http"),
    ("loopback_v4", "https://127.0.0.1/token", "https://registry.example.test:443", "loopback"),
    ("loopback_short_form", "https://127.1/token", "https://registry.example.test:443", "loopback"),
    ("loopback_integer_form", "https://2130706433/token", "https://registry.example.test:443", "loopback"),
    ("loopback_hex_form", "https://0x7f.0.0.1/token", "https://registry.example.test:443", "loopback"),
    ("loopback_v6", "https://[::1]/token", "https://registry.example.test:443", "loopback"),
    ("loopback_mapped_v6", "https://[::ffff:127.0.0.1]/token", "https://registry.example.test:443", "loopback"),
    ("localhost_name", "https://localhost/token", "https://registry.example.test:443", "loopback"),
    ("localhost_subdomain", "https://auth.localhost/token", "https://registry.example.test:443", "loopback"),
    ("link_local_metadata", "http://169.254.169.254/latest", "http://registry.example.test:80", "link-local"),
    ("link_local_v6", "https://[fe80::1]/token", "https://registry.example.test:443", "link-local"),
    ("unspecified", "https://0.0.0.0/token", "https://registry.example.test:443", "loopback"),
    ("not_http", "ftp://auth.example.test/token", "https://registry.example.test:443", "not an http(s) URL"),
    ("no_host", "https:///token", "https://registry.example.test:443", "not an http(s) URL"),
    ("relative", "/token", "https://registry.example.test:443", "not an http(s) URL"),
    ("broken_brackets", "https://[::1/token", "https://registry.example.test:443", "not a valid URL"),
]


@pytest.mark.parametrize(
    "realm, registry_url, reason",
    [row[1:] for row in REALM_TABLE],
    ids=[row[0] for row in REALM_TABLE],
)
def test_unsafe_realm_reason_table(realm, registry_url, reason):
    result = unsafe_realm_reason(realm, registry_url)

    if reason is None:
        assert result is None
    else:
        assert reason in result


@pytest.mark.parametrize("hostname, expected", [
    ("localhost", True),
    ("LOCALHOST", True),
    ("127.0.0.1", True),
    ("127.255.1.2", True),
    ("::1", True),
    ("[::1]", True),
    ("169.254.1.1", True),
    ("fe80::1%eth0", True),
    ("0.0.0.0", True),
    ("registry.example.test", False),
    ("10.0.0.1", False),
    ("192.168.1.10", False),
    ("2001:db8::1", False),
    ("deadbeef", False),
    ("", False),
    (None, False),
])
def test_is_local_host_table(hostname, expected):
    assert is_local_host(hostname) is expected


def test_merge_scopes_plugin_scope_unchanged():
    merged = merge_scopes([
        "repository:vendor/tool:pull",
        "repository(plugin):vendor/tool:pull",
        "repository:vendor/tool:delete",
    ])

    assert merged == ("repository(plugin):vendor/tool:pull", "repository:vendor/tool:delete,pull")


def test_merge_scopes_space_separated_and_duplicates():
    merged = merge_scopes(["repository:b:pull repository:a:push", "repository:a:pull,push", ""])

    assert merged == ("repository:a:pull,push", "repository:b:pull")


def test_merge_scopes_opaque_kept():
    assert merge_scopes(["registry:catalog:*", "odd-scope"]) == ("odd-scope", "registry:catalog:*")
