"""Auth flow of RegistryClient against fake registries and token services on 127.0.0.1.

Every test asserts the exact requests the servers saw, and that the client's request
statistics equal them.
"""

import hashlib

import pytest

from fakeregistry import (
    TOKEN_PATH,
    BearerGuard,
    Reply,
    basic_value,
    challenge,
    json_reply,
    manifest_reply,
    oci_error,
    token_auth,
    wire_stats,
)
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    PermissionDeniedError,
)

MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
FOUND = manifest_reply(MANIFEST, OCI_MANIFEST, DIGEST)
TAG_PATH = "/v2/team/app/manifests/v1"
DIGEST_PATH = "/v2/team/app/manifests/" + DIGEST


def methods_and_paths(server):
    return [(request.method, request.path) for request in server.requests]


def authorizations(server, method=None, path=None):
    return [request.header("Authorization") for request in server.seen(method, path)]


def only_with(expected_authorization, reply, unauthorized):
    """Return a route handler: ``reply`` for the expected Authorization, else ``unauthorized``."""
    def handler(request):
        return reply if request.header("Authorization") == expected_authorization else unauthorized
    return handler


# Challenges on the wire --------------------------------------------------------------------

def test_client_challenge_two_header_lines(registry, make_client):
    unauthorized = challenge("Negotiate", 'Basic realm="corp"')
    registry.route("HEAD", TAG_PATH, only_with(basic_value("alice", "pw"), FOUND, unauthorized))
    client = make_client(registry, username="alice", password="pw")

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert authorizations(registry) == [None, basic_value("alice", "pw")]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_challenge_prefers_bearer(registry, make_client):
    tokens, guard = token_auth(registry)
    both = 'Basic realm="corp", ' + guard.challenge_value("repository:team/app:pull")
    registry.route("HEAD", TAG_PATH, only_with("Bearer token-1", FOUND, challenge(both)))
    client = make_client(registry, username="alice", password="pw")

    client.resolve_manifest("team/app", "v1")

    assert methods_and_paths(registry) == [("HEAD", TAG_PATH), ("GET", TOKEN_PATH), ("HEAD", TAG_PATH)]
    assert authorizations(registry, "HEAD") == [None, "Bearer token-1"]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_challenge_without_service_omitted(registry, make_client):
    tokens, _unused = token_auth(registry)
    unauthorized = challenge('Bearer realm="%s",scope="repository:team/app:pull"' % registry.url(TOKEN_PATH))
    registry.route("HEAD", TAG_PATH, only_with("Bearer token-1", FOUND, unauthorized))
    client = make_client(registry)

    client.resolve_manifest("team/app", "v1")

    token_request = registry.seen("GET", TOKEN_PATH)[0]
    assert token_request.query == [("scope", "repository:team/app:pull")]


def test_client_challenge_plugin_scope_passed_through(registry, make_client):
    tokens, guard = token_auth(registry)
    registry.route("HEAD", "/v2/vendor/tool/manifests/v1", guard.protect(
        "vendor/tool", "pull", FOUND, scope="repository(plugin):vendor/tool:pull"
    ))
    client = make_client(registry)

    client.resolve_manifest("vendor/tool", "v1")

    assert registry.seen("GET", TOKEN_PATH)[0].params("scope") == [
        "repository(plugin):vendor/tool:pull",
        "repository:vendor/tool:pull",
    ]
    assert tokens.issued[0].requested == [
        "repository(plugin):vendor/tool:pull",
        "repository:vendor/tool:pull",
    ]


def test_client_challenge_basic_after_ping(registry, make_client):
    registry.script("GET", "/v2/", Reply(200, body="{}"))
    unauthorized = challenge('Basic realm="corp"')
    registry.route("HEAD", TAG_PATH, only_with(basic_value("alice", "pw"), FOUND, unauthorized))
    client = make_client(registry, username="alice", password="pw")

    ping = client.request("GET", "/v2/")
    manifest = client.resolve_manifest("team/app", "v1")

    assert ping.status == 200
    assert manifest.digest == DIGEST
    assert methods_and_paths(registry) == [("GET", "/v2/"), ("HEAD", TAG_PATH), ("HEAD", TAG_PATH)]
    assert authorizations(registry) == [None, None, basic_value("alice", "pw")]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_challenge_realm_query_kept(registry, make_client):
    tokens, _unused = token_auth(registry)
    guard = BearerGuard(registry, tokens, realm=registry.url(TOKEN_PATH + "?tenant=blue&flag"))
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    client = make_client(registry)

    client.resolve_manifest("team/app", "v1")

    token_request = registry.seen("GET", TOKEN_PATH)[0]
    assert token_request.raw_query == "tenant=blue&flag&service=fake-registry&scope=repository%3Ateam%2Fapp%3Apull"


def test_client_challenge_basic_without_credentials(registry, make_client):
    registry.script("HEAD", TAG_PATH, challenge('Basic realm="corp"'))
    client = make_client(registry)

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "set username and password" in raised.value.msg
    assert len(registry.requests) == 1


def test_client_challenge_unsupported_scheme(registry, make_client):
    registry.script("HEAD", TAG_PATH, challenge('Negotiate, Digest realm="x", nonce="1"'))
    client = make_client(registry)

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "Only Bearer and Basic are supported" in raised.value.msg
    assert "Negotiate" in raised.value.msg
    assert len(registry.requests) == 1


def test_client_challenge_https_registry_http_realm(tls_registry, fake_servers, make_client, tls_files):
    registry = tls_registry()
    token_server = fake_servers()
    tokens, _unused = token_auth(token_server)
    registry.script("HEAD", TAG_PATH, challenge('Bearer realm="%s",service="r"' % token_server.url(TOKEN_PATH)))
    client = make_client(registry, ca_path=tls_files["ca"], username="alice", password="pw")

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "plain http" in raised.value.msg
    assert "no credentials were sent" in raised.value.msg
    assert token_server.requests == []
    assert len(registry.requests) == 1


# Token answers -----------------------------------------------------------------------------

@pytest.mark.parametrize("document", [
    {"token": "issued"},
    {"access_token": "issued"},
    {"token": "issued", "access_token": "issued"},
    {"token": "", "access_token": "issued"},
], ids=["token", "access_token", "both", "empty_token"])
def test_client_token_field_variants(registry, make_client, document):
    token_auth(registry, document=lambda value: document)
    unauthorized = challenge('Bearer realm="%s",service="r"' % registry.url(TOKEN_PATH))
    registry.route("HEAD", TAG_PATH, only_with("Bearer issued", FOUND, unauthorized))
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert authorizations(registry, "HEAD") == [None, "Bearer issued"]


@pytest.mark.parametrize("document, body", [
    ({"expires_in": 300}, "no token field"),
    ({"token": 42}, "a number"),
    (None, "<html>not json</html>"),
], ids=["no_token_field", "token_not_string", "html"])
def test_client_token_unusable_answer(registry, make_client, document, body):
    answer = Reply(200, [("Content-Type", "text/html")], body) if document is None else json_reply(document)
    registry.script("GET", TOKEN_PATH, answer)
    registry.script("HEAD", TAG_PATH, challenge('Bearer realm="%s"' % registry.url(TOKEN_PATH)))
    client = make_client(registry)

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert registry.url(TOKEN_PATH) in raised.value.msg
    assert "Traceback" not in raised.value.msg
    assert len(registry.requests) == 2


@pytest.mark.parametrize("token", [
    "Secret-Token-1\r\nX-Injected: 1",
    "Secret-Token-1\n",
    " Secret-Token-1",
    "Secret\x01Token-1",
    "Secret-T\u00f6ken-1\u20ac",
    "Secret=Token-1",
], ids=["crlf", "trailing_newline", "leading_space", "control", "not_ascii", "inner_padding"])
def test_client_token_invalid_characters(registry, make_client, token):
    registry.script("GET", TOKEN_PATH, json_reply({"token": token}))
    registry.script("HEAD", TAG_PATH, challenge('Bearer realm="%s"' % registry.url(TOKEN_PATH)))
    client = make_client(registry)

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg == (
        "the token service %s issued a token that is not a valid bearer token (RFC 6750 allows "
        "letters, digits and -._~+/, then '=' padding); it was not used." % registry.url(TOKEN_PATH)
    )
    assert methods_and_paths(registry) == [("HEAD", TAG_PATH), ("GET", TOKEN_PATH)]


def test_client_challenge_realm_bad_port(registry, make_client):
    registry.script("HEAD", TAG_PATH, challenge('Bearer realm="http://127.0.0.1:99999/token"'))
    client = make_client(registry, username="alice", password="secret")

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg == (
        "the registry %s named the token realm 'http://127.0.0.1:99999/token', which the client does "
        "not contact because its port is not a number from 1 to 65535; no credentials were sent."
        % registry.host
    )
    assert methods_and_paths(registry) == [("HEAD", TAG_PATH)]


@pytest.mark.parametrize("token", ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_", "djE6YWJj+/==", "a~b.c"],
                         ids=["jwt", "base64", "tilde"])
def test_client_token_valid_characters(registry, make_client, token):
    token_auth(registry, document=lambda value: {"token": token})
    unauthorized = challenge('Bearer realm="%s"' % registry.url(TOKEN_PATH))
    registry.route("HEAD", TAG_PATH, only_with("Bearer " + token, FOUND, unauthorized))
    client = make_client(registry)

    assert client.resolve_manifest("team/app", "v1").digest == DIGEST


# (expires_in value, seconds later the token is still used, seconds later it is refreshed)
LIFETIMES = [
    ("300", 290, 296),
    (300, 290, 296),
    (None, 54, 56),
    (10, 54, 56),
    ("soon", 54, 56),
    (float("inf"), 54, 56),
    (float("nan"), 54, 56),
]


@pytest.mark.parametrize("expires_in, reused_after, refreshed_after", LIFETIMES,
                         ids=["string", "number", "absent", "below_floor", "not_a_number", "infinite", "nan"])
def test_client_token_expiry(registry, make_client, fake_time, expires_in, reused_after, refreshed_after):
    def document(value):
        answer = {"token": value}
        if expires_in is not None:
            answer["expires_in"] = expires_in
        return answer

    tokens, guard = token_auth(registry, document=document)
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    client = make_client(registry)
    start = fake_time.now

    client.resolve_manifest("team/app", "v1")
    fake_time.now = start + reused_after
    client.resolve_manifest("team/app", "v1")
    fake_time.now = start + refreshed_after
    client.resolve_manifest("team/app", "v1")

    assert authorizations(registry, "HEAD") == [None, "Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert client.stats.as_dict() == wire_stats(registry)
    assert client.stats.token == 2


def test_client_token_credentials_sent_as_basic(registry, make_client):
    tokens, guard = token_auth(registry, users={"alice": "pw"})
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    client = make_client(registry, username="alice", password="pw")

    client.resolve_manifest("team/app", "v1")

    assert authorizations(registry, "GET", TOKEN_PATH) == [basic_value("alice", "pw")]
    assert tokens.issued[0].user == "alice"


def test_client_token_bad_credentials_not_anonymous(registry, make_client):
    tokens, guard = token_auth(registry, users={"alice": "other"})
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    client = make_client(registry, username="alice", password="pw")

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "rejected the credentials of user 'alice'" in raised.value.msg
    assert authorizations(registry, "GET", TOKEN_PATH) == [basic_value("alice", "pw")]
    assert tokens.issued == []
    assert client.stats.as_dict() == wire_stats(registry)


HTML_404 = Reply(404, [("Content-Type", "text/html")],
                 "<html>\n<head><title>404 Not Found</title></head>\n<body>" + "x" * 500 + "</body></html>")


def test_client_token_post_404_falls_back(registry, make_client):
    tokens, guard = token_auth(registry)
    registry.script("POST", TOKEN_PATH, HTML_404)
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    client = make_client(registry, username="alice", identity_token="refresh-1")

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert methods_and_paths(registry) == [
        ("HEAD", TAG_PATH), ("POST", TOKEN_PATH), ("GET", TOKEN_PATH), ("HEAD", TAG_PATH),
    ]
    assert authorizations(registry, "GET", TOKEN_PATH) == [basic_value("alice", "refresh-1")]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_token_fallback_fails_with_snippet(registry, make_client):
    registry.script("POST", TOKEN_PATH, HTML_404)
    registry.script("GET", TOKEN_PATH, HTML_404)
    registry.script("HEAD", TAG_PATH, challenge('Bearer realm="%s"' % registry.url(TOKEN_PATH)))
    client = make_client(registry, username="alice", identity_token="refresh-1")

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    message = raised.value.msg
    assert "the GET request returned HTTP 404 (body: '<html> <head><title>404 Not Found</title>" in message
    assert message.endswith(" ...').")
    assert len(message) < 400
    assert "Traceback" not in message
    assert raised.value.status == 404
    assert methods_and_paths(registry) == [("HEAD", TAG_PATH), ("POST", TOKEN_PATH), ("GET", TOKEN_PATH)]


# Permissions and scopes --------------------------------------------------------------------

def pull_only(user, scope):
    return {"pull"}


@pytest.mark.parametrize("insufficient_error, expected_paths", [
    (True, [("HEAD", TAG_PATH), ("GET", TOKEN_PATH), ("HEAD", TAG_PATH), ("DELETE", DIGEST_PATH)]),
    # Without error="insufficient_scope" the token from the HEAD may have expired early:
    # one fresh token is fetched before the client gives up.
    (False, [("HEAD", TAG_PATH), ("GET", TOKEN_PATH), ("HEAD", TAG_PATH), ("DELETE", DIGEST_PATH),
             ("GET", TOKEN_PATH), ("DELETE", DIGEST_PATH)]),
], ids=["insufficient_scope", "no_error_parameter"])
def test_client_delete_permission_missing(registry, make_client, insufficient_error, expected_paths):
    tokens, guard = token_auth(registry, insufficient_error=insufficient_error, grant=pull_only)
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    registry.route("DELETE", DIGEST_PATH, guard.protect("team/app", "delete", Reply(202)))
    client = make_client(registry)
    client.declare("team/app", ("pull", "delete"))

    manifest = client.resolve_manifest("team/app", "v1")
    with pytest.raises(PermissionDeniedError) as raised:
        client.delete_manifest("team/app", manifest.digest)

    assert "the delete permission on repository 'team/app'" in raised.value.msg
    assert raised.value.status == 401
    assert methods_and_paths(registry) == expected_paths
    assert tokens.issued[0].requested == ["repository:team/app:delete,pull"]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_registry_403_names_permission(registry, make_client):
    registry.script("DELETE", DIGEST_PATH, oci_error(403, "DENIED", "requested access to the resource is denied"))
    client = make_client(registry)

    with pytest.raises(PermissionDeniedError) as raised:
        client.delete_manifest("team/app", DIGEST)

    assert "is not allowed to delete on repository 'team/app'" in raised.value.msg
    assert "DENIED: requested access to the resource is denied" in raised.value.msg
    assert len(registry.requests) == 1


def reject_delete(user, scope):
    return {"*"} if scope.endswith(":*") else {"pull"}


def refuse_delete_scopes(tokens):
    """Wrap a TokenService so it answers 400 to any request that names a delete action."""
    def handler(request):
        if any(scope.rpartition(":")[2].split(",").count("delete") for scope in request.params("scope")):
            return oci_error(400, "DENIED", "unsupported action")
        return tokens(request)
    return handler


def test_client_scope_rejected_uses_own_scope(registry, make_client, client_warnings):
    tokens, guard = token_auth(registry, grant=reject_delete)
    registry.route("GET", TOKEN_PATH, refuse_delete_scopes(tokens))
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    registry.route("DELETE", DIGEST_PATH, guard.protect(
        "team/app", "delete", Reply(202), scope="repository:team/app:*"
    ))
    client = make_client(registry)
    client.declare("team/app", ("pull", "delete"))

    manifest = client.resolve_manifest("team/app", "v1")
    deleted = client.delete_manifest("team/app", manifest.digest)

    assert deleted is True
    assert methods_and_paths(registry) == [
        ("HEAD", TAG_PATH), ("GET", TOKEN_PATH), ("GET", TOKEN_PATH), ("HEAD", TAG_PATH),
        ("DELETE", DIGEST_PATH), ("GET", TOKEN_PATH), ("DELETE", DIGEST_PATH),
    ]
    assert [request.params("scope") for request in registry.seen("GET", TOKEN_PATH)] == [
        ["repository:team/app:delete,pull"], ["repository:team/app:pull"], ["repository:team/app:*"],
    ]
    assert len(client_warnings) == 1
    assert "rejected the scope repository:team/app:delete,pull (HTTP 400)" in client_warnings[0]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_scope_rejected_twice_fails(registry, make_client):
    registry.script("GET", TOKEN_PATH, oci_error(400, "DENIED", "unsupported action"))
    registry.script("HEAD", TAG_PATH, challenge(
        'Bearer realm="%s",service="r",scope="repository:team/app:pull"' % registry.url(TOKEN_PATH)
    ))
    client = make_client(registry)
    client.declare("team/app", ("pull", "delete"))

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "the GET request returned HTTP 400 (DENIED: unsupported action)" in raised.value.msg
    assert methods_and_paths(registry) == [("HEAD", TAG_PATH), ("GET", TOKEN_PATH), ("GET", TOKEN_PATH)]


# Bounds, cache and refresh -----------------------------------------------------------------

@pytest.mark.parametrize("error, expected_heads, expected_tokens, exception, fragment", [
    ("invalid_token", 4, 3, AuthenticationError, "failed after 3 attempts for HEAD /v2/team/app/manifests/v1"),
    (None, 2, 1, PermissionDeniedError, "did not grant user (anonymous) the pull permission"),
], ids=["invalid_token", "no_error_parameter"])
def test_client_auth_dance_capped(registry, make_client, error, expected_heads, expected_tokens, exception,
                                  fragment):
    token_auth(registry)
    value = 'Bearer realm="%s",service="r",scope="repository:team/app:pull"' % registry.url(TOKEN_PATH)
    if error:
        value += ',error="%s"' % error
    registry.script("HEAD", TAG_PATH, challenge(value))
    client = make_client(registry)

    with pytest.raises(exception) as raised:
        client.resolve_manifest("team/app", "v1")

    assert fragment in raised.value.msg
    assert len(registry.seen("HEAD")) == expected_heads
    assert len(registry.seen("GET", TOKEN_PATH)) == expected_tokens
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_auth_basic_always_refused(registry, make_client):
    registry.script("HEAD", TAG_PATH, challenge('Basic realm="corp"'))
    client = make_client(registry, username="alice", password="pw")

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "rejected the credentials of user 'alice'" in raised.value.msg
    assert len(registry.requests) == 2


def test_client_token_not_reused_across_repositories(registry, make_client):
    tokens, guard = token_auth(registry)
    registry.route("HEAD", "/v2/team/a/manifests/v1", guard.protect("team/a", "pull", FOUND))
    registry.route("HEAD", "/v2/team/b/manifests/v1", guard.protect("team/b", "pull", FOUND))
    client = make_client(registry)

    client.resolve_manifest("team/a", "v1")
    client.resolve_manifest("team/b", "v1")
    client.resolve_manifest("team/a", "v1")

    assert authorizations(registry, "HEAD", "/v2/team/a/manifests/v1") == [None, "Bearer token-1", "Bearer token-1"]
    assert authorizations(registry, "HEAD", "/v2/team/b/manifests/v1") == ["Bearer token-2"]
    assert tokens.issued[1].requested == ["repository:team/b:pull"]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_stale_token_rechallenges_once(registry, make_client):
    tokens, guard = token_auth(registry)
    protected = guard.protect("team/app", "pull", FOUND)

    def revoked_first_token(request):
        if request.header("Authorization") == "Bearer token-1" and len(registry.seen("HEAD")) > 2:
            return Reply(401)
        return protected(request)

    registry.route("HEAD", TAG_PATH, revoked_first_token)
    client = make_client(registry)

    client.resolve_manifest("team/app", "v1")
    client.resolve_manifest("team/app", "v1")

    assert authorizations(registry, "HEAD") == [None, "Bearer token-1", "Bearer token-1", None, "Bearer token-2"]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_stale_token_400_rechallenges(registry, make_client):
    tokens, guard = token_auth(registry)
    protected = guard.protect("team/app", "pull", FOUND)

    def refuse_first_token(request):
        if request.header("Authorization") == "Bearer token-1":
            return oci_error(400, "UNAUTHORIZED", "authentication required")
        return protected(request)

    registry.route("HEAD", TAG_PATH, refuse_first_token)
    client = make_client(registry)

    client.resolve_manifest("team/app", "v1")

    assert authorizations(registry, "HEAD") == [None, "Bearer token-1", None, "Bearer token-2"]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_stale_token_twice_fails(registry, make_client):
    tokens, guard = token_auth(registry)
    protected = guard.protect("team/app", "pull", FOUND)

    def refuse_every_token(request):
        if request.header("Authorization"):
            return Reply(401)
        return protected(request)

    registry.route("HEAD", TAG_PATH, refuse_every_token)
    client = make_client(registry)

    with pytest.raises(AuthenticationError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "again after the client dropped the rejected credentials" in raised.value.msg
    assert authorizations(registry, "HEAD") == [None, "Bearer token-1", None, "Bearer token-2"]
    assert client.stats.as_dict() == wire_stats(registry)


# Redirects ---------------------------------------------------------------------------------

BLOB_DIGEST = "sha256:" + "b" * 64
BLOB_PATH = "/v2/team/app/blobs/" + BLOB_DIGEST


def test_client_redirect_other_origin_drops_authorization(fake_servers, make_client):
    registry = fake_servers()
    storage = fake_servers()
    redirect = Reply(307, [("Location", storage.url("/data/blob?signature=abc"))])
    registry.route("GET", BLOB_PATH, only_with(basic_value("alice", "pw"), redirect, challenge('Basic realm="r"')))
    storage.script("GET", "/data/blob", Reply(200, body=b"blob bytes"))
    client = make_client(registry, username="alice", password="pw")

    body = client.get_blob("team/app", BLOB_DIGEST)

    assert body == b"blob bytes"
    assert authorizations(registry) == [None, basic_value("alice", "pw")]
    assert authorizations(storage) == [None]
    assert storage.requests[0].raw_query == "signature=abc"
    assert client.stats.as_dict() == wire_stats(registry, storage)


def test_client_redirect_challenge_own_token_exchange(fake_servers, make_client):
    registry = fake_servers()
    storage = fake_servers()
    registry_tokens, registry_guard = token_auth(registry, users={"alice": "pw"}, prefix="registry")
    storage_tokens, storage_guard = token_auth(storage, prefix="storage")
    redirect = Reply(307, [("Location", storage.url("/data/blob"))])
    registry.route("GET", BLOB_PATH, registry_guard.protect("team/app", "pull", redirect))
    storage.route("GET", "/data/blob", storage_guard.protect("team/app", "pull", Reply(200, body=b"blob bytes")))
    client = make_client(registry, username="alice", password="pw")

    body = client.get_blob("team/app", BLOB_DIGEST)

    assert body == b"blob bytes"
    assert authorizations(registry, "GET", BLOB_PATH) == [None, "Bearer registry-1"]
    assert authorizations(registry, "GET", TOKEN_PATH) == [basic_value("alice", "pw")]
    assert authorizations(storage, "GET", "/data/blob") == [None, "Bearer storage-1"]
    assert authorizations(storage, "GET", TOKEN_PATH) == [None]
    assert client.stats.as_dict() == wire_stats(registry, storage)


def test_client_redirect_basic_challenge_rejected(fake_servers, make_client):
    registry = fake_servers()
    storage = fake_servers()
    registry.script("GET", BLOB_PATH, Reply(307, [("Location", storage.url("/data/blob"))]))
    storage.script("GET", "/data/blob", challenge('Basic realm="storage"'))
    client = make_client(registry, username="alice", password="pw")

    with pytest.raises(AuthenticationError) as raised:
        client.get_blob("team/app", BLOB_DIGEST)

    assert "credentials are only sent to the registry itself" in raised.value.msg
    assert authorizations(storage) == [None]
