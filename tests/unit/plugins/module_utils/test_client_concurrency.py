"""RegistryClient used from several threads at once, as oci_cleanup does with its workers."""

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from fakeregistry import TOKEN_PATH, manifest_reply, token_auth, wire_stats
from ansible_collections.oci.registry.plugins.module_utils._client import RequestStats

MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
FOUND = manifest_reply(MANIFEST, "application/vnd.oci.image.manifest.v1+json", DIGEST)
REPOSITORIES = ("team/app", "team/lib")
THREADS = 8
REQUESTS_PER_REPOSITORY = 16
# The token service waits this long before it responds, so that threads missing a
# token pile up while one of them fetches it.
TOKEN_DELAY = 0.3


def serve_manifests(registry):
    tokens, guard = token_auth(registry)

    def slow_tokens(request):
        time.sleep(TOKEN_DELAY)
        return tokens(request)

    registry.route("GET", TOKEN_PATH, slow_tokens)
    for repository in REPOSITORIES:
        registry.route("HEAD", "/v2/%s/manifests/v1" % repository, guard.protect(repository, "pull", FOUND))
    return tokens


def resolve_concurrently(client):
    jobs = [repository for repository in REPOSITORIES for number in range(REQUESTS_PER_REPOSITORY)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(lambda repository: client.resolve_manifest(repository, "v1"), jobs))


def test_client_threads_share_declared_token(registry, make_client):
    tokens = serve_manifests(registry)
    client = make_client(registry)
    for repository in REPOSITORIES:
        client.declare(repository, ("pull", "delete"))
    client.set_max_connections(THREADS)

    client.resolve_manifest(REPOSITORIES[0], "v1")
    manifests = resolve_concurrently(client)

    assert [manifest.digest for manifest in manifests] == [DIGEST] * len(manifests)
    assert len(tokens.issued) == 1
    assert tokens.issued[0].requested == ["repository:team/app:delete,pull", "repository:team/lib:delete,pull"]
    assert len(registry.seen("GET", TOKEN_PATH)) == 1
    assert client.stats.as_dict() == wire_stats(registry)
    assert client.stats.total == 3 + len(manifests)


def test_client_threads_refresh_expired_token_once(registry, make_client, fake_time):
    tokens = serve_manifests(registry)
    client = make_client(registry)
    for repository in REPOSITORIES:
        client.declare(repository, ("pull",))
    client.resolve_manifest(REPOSITORIES[0], "v1")
    # The fake token service issues tokens for 300 seconds.
    fake_time.now += 301

    manifests = resolve_concurrently(client)

    assert len(manifests) == len(REPOSITORIES) * REQUESTS_PER_REPOSITORY
    assert len(tokens.issued) == 2
    assert len(registry.seen("GET", TOKEN_PATH)) == 2
    assert client.stats.as_dict() == wire_stats(registry)


def test_request_stats_counts_every_thread():
    stats = RequestStats()

    def record_many(thread):
        for number in range(1000):
            stats.record("HEAD", 200)
            stats.record_retry()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(record_many, range(THREADS)))

    assert stats.as_dict() == {
        "total": THREADS * 1000,
        "token": 0,
        "retries": THREADS * 1000,
        "by_method": {"HEAD": THREADS * 1000},
        "by_status": {"200": THREADS * 1000},
    }
