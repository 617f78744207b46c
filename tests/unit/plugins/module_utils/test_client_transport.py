"""Transport of RegistryClient: retries, Retry-After, resets, timeouts and TLS.

Sleeps go to the fake_time recorder, so no test waits for a backoff; only the timeout
tests wait, for at most a second each.
"""

import socket
import time
from email.utils import formatdate

import pytest

from fakeregistry import TOKEN_PATH, Reply, challenge, manifest_reply, token_auth, wire_stats
from ansible_collections.oci.registry.plugins.module_utils import _client
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    AuthenticationError,
    ConnectionFailedError,
    RegistryError,
    RequestTimeoutError,
    TLSFailedError,
    UnexpectedResponseError,
)

MANIFEST = b'{"schemaVersion": 2}'
DIGEST = "sha256:" + "d" * 64
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
FOUND = manifest_reply(MANIFEST, OCI_MANIFEST, DIGEST)
TAG_PATH = "/v2/team/app/manifests/v1"
BLOB_DIGEST = "sha256:" + "b" * 64
BLOB_PATH = "/v2/team/app/blobs/" + BLOB_DIGEST


class UpperBoundRandom(object):
    """Stands in for the random module: ``uniform`` records its bounds, returns the upper one."""

    def __init__(self):
        self.calls = []

    def uniform(self, low, high):
        self.calls.append((low, high))
        return high


@pytest.fixture
def upper_bound_random(monkeypatch):
    stub = UpperBoundRandom()
    monkeypatch.setattr(_client, "random", stub)
    return stub


# Retries -----------------------------------------------------------------------------------

def test_client_retry_after_honoured(registry, make_client, fake_time, client_warnings):
    slow_down = Reply(429, [("Retry-After", "2"), ("Content-Type", "text/plain")], "slow down")
    registry.script("HEAD", TAG_PATH, slow_down, FOUND)
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert fake_time.sleeps == [2.0]
    assert client_warnings == [
        "Retrying HEAD /v2/team/app/manifests/v1 in 2.0 s because the server answered HTTP 429 (retry 1 of 3)."
    ]
    assert client.stats.retries == 1
    assert client.stats.as_dict() == wire_stats(registry, retries=1)


def test_client_retry_after_http_date(registry, make_client, fake_time):
    later = formatdate(time.time() + 3, usegmt=True)
    registry.script("HEAD", TAG_PATH, Reply(503, [("Retry-After", later)]), FOUND)
    client = make_client(registry)

    client.resolve_manifest("team/app", "v1")

    assert len(fake_time.sleeps) == 1
    assert 1.0 < fake_time.sleeps[0] <= 3.0


@pytest.mark.parametrize("status", [502, 503, 504])
def test_client_retry_statuses_backoff(registry, make_client, fake_time, upper_bound_random, status):
    registry.script("HEAD", TAG_PATH, Reply(status), Reply(status), Reply(status), FOUND)
    client = make_client(registry, retries=3)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert upper_bound_random.calls == [(0, 0.5), (0, 1.0), (0, 2.0)]
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert client.stats.as_dict() == wire_stats(registry, retries=3)


def test_client_backoff_jitter_bounds(registry, make_client, fake_time):
    registry.script("HEAD", TAG_PATH, Reply(503), Reply(503), Reply(503), Reply(503), Reply(503), Reply(503), FOUND)
    client = make_client(registry, retries=6)

    client.resolve_manifest("team/app", "v1")

    caps = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(fake_time.sleeps) == len(caps)
    for delay, cap in zip(fake_time.sleeps, caps):
        assert 0 <= delay <= cap


def test_client_connection_reset_retried(registry, make_client, fake_time, upper_bound_random, client_warnings):
    registry.script("HEAD", TAG_PATH, Reply(reset=True), FOUND)
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert fake_time.sleeps == [0.5]
    assert "because the connection closed" in client_warnings[0]
    assert client.stats.as_dict() == wire_stats(registry, retries=1)
    assert client.stats.by_status == {"200": 1, "error": 1}


def test_client_reset_mid_body_retried(registry, make_client, fake_time):
    registry.script("GET", BLOB_PATH, Reply(200, body=b"0123456789" * 10, cut=10), Reply(200, body=b"0123456789" * 10))
    client = make_client(registry)

    body = client.get_blob("team/app", BLOB_DIGEST)

    assert body == b"0123456789" * 10
    assert len(registry.seen("GET", BLOB_PATH)) == 2
    assert client.stats.retries == 1
    assert client.stats.by_status == {"200": 1, "error": 1}


def test_client_reset_retries_exhausted(registry, make_client, fake_time):
    registry.script("HEAD", TAG_PATH, Reply(reset=True))
    client = make_client(registry, retries=1)

    with pytest.raises(ConnectionFailedError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg.endswith(". The client gave up after 1 retry as set by the retries option.")
    assert len(registry.requests) == 2
    assert client.stats.as_dict() == wire_stats(registry, retries=1)


def test_client_retries_bounded(registry, make_client, fake_time):
    registry.script("GET", BLOB_PATH, Reply(503, [("Content-Type", "text/plain")], "try later"))
    client = make_client(registry, retries=2)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.get_blob("team/app", BLOB_DIGEST)

    assert "HTTP 503 (body: 'try later'; gave up after 2 retries as set by the retries option)" in raised.value.msg
    assert len(registry.requests) == 3
    assert len(fake_time.sleeps) == 2
    assert client.stats.as_dict() == wire_stats(registry, retries=2)


def test_client_retries_zero(registry, make_client, fake_time):
    registry.script("HEAD", TAG_PATH, Reply(503))
    client = make_client(registry, retries=0)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg.endswith("the registry answered HTTP 503 to HEAD /v2/team/app/manifests/v1.")
    assert len(registry.requests) == 1
    assert fake_time.sleeps == []


def test_client_retry_max_time_bounds_backoff(registry, make_client, fake_time, upper_bound_random, client_warnings):
    registry.script("HEAD", TAG_PATH, Reply(503))
    client = make_client(registry, retries=10, retry_max_time=3.0)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert fake_time.sleeps == [0.5, 1.0]
    assert len(registry.requests) == 3
    assert "not retried: waiting 2.0 s would pass retry_max_time (3.0 s)" in raised.value.msg
    assert client_warnings[-1] == (
        "HEAD /v2/team/app/manifests/v1: not retried: waiting 2.0 s would pass retry_max_time (3.0 s)."
    )
    assert client.stats.as_dict() == wire_stats(registry, retries=2)


def test_client_retry_after_not_clipped(registry, make_client, fake_time):
    registry.script("HEAD", TAG_PATH, Reply(429, [("Retry-After", "120")]), FOUND)
    client = make_client(registry, retry_max_time=60.0)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert fake_time.sleeps == []
    assert len(registry.requests) == 1
    assert raised.value.status == 429
    assert "HTTP 429 (not retried: waiting 120.0 s would pass retry_max_time (60.0 s))" in raised.value.msg
    assert client.stats.retries == 0


def test_client_token_get_retried(registry, make_client, fake_time):
    tokens, guard = token_auth(registry)
    registry.route("GET", TOKEN_PATH, _first_then(Reply(503, [("Retry-After", "1")]), tokens))
    registry.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    client = make_client(registry)

    client.resolve_manifest("team/app", "v1")

    assert fake_time.sleeps == [1.0]
    assert client.stats.token == 2
    assert client.stats.as_dict() == wire_stats(registry, retries=1)


def _first_then(first, handler):
    served = []

    def answer(request):
        served.append(request)
        return first if len(served) == 1 else handler(request)

    return answer


# Requests that are not replayed ------------------------------------------------------------

@pytest.mark.parametrize("answer, exception", [
    (Reply(503, [("Retry-After", "1")]), AuthenticationError),
    (Reply(reset=True), ConnectionFailedError),
], ids=["503", "reset"])
def test_client_post_not_replayed(registry, make_client, fake_time, answer, exception):
    registry.script("POST", TOKEN_PATH, answer)
    registry.script("HEAD", TAG_PATH, challenge('Bearer realm="%s"' % registry.url(TOKEN_PATH)))
    client = make_client(registry, identity_token="refresh-1")

    with pytest.raises(exception) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "a POST is not sent twice" in raised.value.msg
    assert len(registry.seen("POST", TOKEN_PATH)) == 1
    assert registry.seen("GET", TOKEN_PATH) == []
    assert fake_time.sleeps == []
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_put_not_replayed(registry, make_client, fake_time):
    registry.script("PUT", TAG_PATH, Reply(503))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.put_manifest("team/app", "v1", MANIFEST, OCI_MANIFEST)

    assert "not retried: a PUT is not sent twice" in raised.value.msg
    assert len(registry.requests) == 1


# Connection failures -----------------------------------------------------------------------

def test_client_plain_http_mismatch_fails_fast(registry, make_client, fake_time):
    client = make_client(registry, plain_http=False)

    with pytest.raises(TLSFailedError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "set plain_http=true" in raised.value.msg
    assert fake_time.sleeps == []
    assert registry.requests == []
    assert client.stats.as_dict() == {
        "total": 1, "token": 0, "retries": 0, "by_method": {"HEAD": 1}, "by_status": {"error": 1},
    }


def test_client_connection_refused(make_client, fake_time):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    class Closed(object):
        host = "127.0.0.1:%d" % port
        scheme = "http"

    client = make_client(Closed())

    with pytest.raises(ConnectionFailedError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "cannot connect to http://127.0.0.1:%d: connection refused" % port in raised.value.msg
    assert fake_time.sleeps == []
    assert client.stats.by_status == {"error": 1}


def test_client_timeout_no_answer(registry, make_client, fake_time):
    registry.script("HEAD", TAG_PATH, Reply(stall=True))
    client = make_client(registry, timeout=0.5)
    started = time.monotonic()

    with pytest.raises(RequestTimeoutError) as raised:
        client.resolve_manifest("team/app", "v1")

    elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert "HEAD /v2/team/app/manifests/v1 timed out" in raised.value.msg
    assert "within 0.5 seconds (the timeout option)" in raised.value.msg
    assert fake_time.sleeps == []
    assert len(registry.requests) == 1
    assert client.stats.by_status == {"error": 1}


def test_client_timeout_body_stalls(registry, make_client, fake_time):
    registry.script("GET", BLOB_PATH, Reply(200, body=b"x" * 100, cut=10, stall=True))
    client = make_client(registry, timeout=0.5)
    started = time.monotonic()

    with pytest.raises(RequestTimeoutError) as raised:
        client.get_blob("team/app", BLOB_DIGEST)

    assert time.monotonic() - started < 1.5
    assert "the body from http://%s stopped arriving for 0.5 seconds" % registry.host in raised.value.msg
    assert len(registry.requests) == 1


# TLS ---------------------------------------------------------------------------------------

def test_client_tls_private_ca_fails_by_default(tls_registry, make_client, fake_time):
    registry = tls_registry()
    client = make_client(registry)

    with pytest.raises(TLSFailedError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "TLS certificate verification failed for %s" % registry.url() in raised.value.msg
    assert "Set ca_path" in raised.value.msg
    assert registry.requests == []
    assert fake_time.sleeps == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
@pytest.mark.parametrize("use_ca_path", [True, False], ids=["ca_path", "validate_certs_false"])
def test_client_tls_private_ca_accepted(tls_registry, make_client, tls_files, use_ca_path):
    registry = tls_registry()
    registry.script("HEAD", TAG_PATH, FOUND)
    if use_ca_path:
        client = make_client(registry, ca_path=tls_files["ca"])
    else:
        client = make_client(registry, validate_certs=False)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_tls_client_certificate_missing(tls_registry, make_client, tls_files):
    registry = tls_registry(require_client_cert=True)
    client = make_client(registry, ca_path=tls_files["ca"])

    with pytest.raises(TLSFailedError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "set client_cert and client_key" in raised.value.msg
    assert registry.requests == []


def test_client_tls_client_certificate_sent(tls_registry, make_client, tls_files):
    registry = tls_registry(require_client_cert=True)
    registry.script("HEAD", TAG_PATH, FOUND)
    client = make_client(
        registry, ca_path=tls_files["ca"],
        client_cert=tls_files["client_cert"], client_key=tls_files["client_key"],
    )

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert client.stats.as_dict() == wire_stats(registry)


# A DELETE sent again ------------------------------------------------------------------------

MANIFEST_DIGEST_PATH = "/v2/team/app/manifests/" + DIGEST
GONE = Reply(404, [("Content-Type", "application/json")], '{"errors": [{"code": "MANIFEST_UNKNOWN"}]}')

# (case id, DELETE path, client call, what the warning names)
DELETES = [
    ("manifest", MANIFEST_DIGEST_PATH, lambda client: client.delete_manifest("team/app", DIGEST),
     "manifest " + DIGEST),
    ("blob", BLOB_PATH, lambda client: client.delete_blob("team/app", BLOB_DIGEST), "blob " + BLOB_DIGEST),
    ("tag", TAG_PATH, lambda client: client.delete_tag("team/app", "v1"), "tag v1"),
]


@pytest.mark.parametrize("first", [Reply(503), Reply(502), Reply(504), Reply(429), Reply(reset=True)],
                         ids=["503", "502", "504", "429", "reset"])
@pytest.mark.parametrize("path, call, target", [case[1:] for case in DELETES], ids=[case[0] for case in DELETES])
def test_client_delete_retried_404_counts_as_deleted(registry, make_client, fake_time, client_warnings,
                                                     first, path, call, target):
    registry.script("DELETE", path, first, GONE)
    client = make_client(registry)

    assert call(client) is True
    assert len(registry.seen("DELETE", path)) == 2
    assert client_warnings[-1] == (
        "DELETE %s answered 404 after a retry: the earlier attempt most likely deleted %s from "
        "team/app, so it counts as deleted by this task." % (path, target)
    )
    assert client.stats.as_dict() == wire_stats(registry, retries=1)


def test_client_delete_404_after_challenge_not_deleted(registry, make_client, client_warnings):
    # A 401 is answered with a token, not retried: the DELETE never reached the registry before.
    tokens, guard = token_auth(registry)
    registry.route("DELETE", MANIFEST_DIGEST_PATH, guard.protect("team/app", "delete", GONE))
    client = make_client(registry)

    assert client.delete_manifest("team/app", DIGEST) is False
    assert client_warnings == []
    assert client.stats.retries == 0


# Answers that cannot be used ---------------------------------------------------------------

def test_client_body_deadline(registry, make_client, fake_time, client_warnings):
    registry.script("GET", BLOB_PATH, Reply(200, body=b"x" * 100, drip=0.05))
    config = _client.ClientConfig(registry=registry.host, plain_http=True, timeout=0.2)
    client = _client.RegistryClient(config, sleep=fake_time.sleep)
    started = time.monotonic()

    with pytest.raises(RequestTimeoutError) as raised:
        client.get_blob("team/app", BLOB_DIGEST)

    client.close()
    assert time.monotonic() - started < 2.0
    assert raised.value.msg == (
        "GET %s timed out: the body from http://%s did not arrive within 0.8 seconds (4 times the "
        "timeout option)." % (BLOB_PATH, registry.host)
    )
    assert len(registry.requests) == 1


def test_client_too_many_headers(registry, make_client):
    registry.script("HEAD", TAG_PATH, Reply(200, [("X-Header-%d" % number, "1") for number in range(150)]))
    client = make_client(registry)

    with pytest.raises(ConnectionFailedError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg == (
        "the answer from http://%s to HEAD %s is not valid HTTP: 'got more than 100 headers'."
        % (registry.host, TAG_PATH)
    )


@pytest.mark.parametrize("value, error", [
    ("secret-value\r\nX-Injected: 1", "InvalidHeader"),
    ("secret-value-\u20ac", "UnicodeEncodeError"),
], ids=["crlf", "not_latin1"])
def test_client_bad_header_value(registry, make_client, value, error):
    client = make_client(registry)

    with pytest.raises(RegistryError) as raised:
        client.request("GET", BLOB_PATH, "team/app", headers={"X-Example": value})

    assert raised.value.msg == (
        "GET %s to http://%s was not sent: the request could not be built (%s)." % (BLOB_PATH, registry.host, error)
    )
    assert registry.requests == []
