"""Resolving and deleting manifests with RegistryClient against a fake registry."""

import hashlib

import pytest

from fakeregistry import Reply, manifest_reply, oci_error, wire_stats
from ansible_collections.oci.registry.plugins.module_utils._client import MANIFEST_ACCEPT
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    DeletionDisabledError,
    UnexpectedResponseError,
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# Odd spacing and key order on purpose: the digest covers these exact bytes.
MANIFEST = b'{\n   "schemaVersion":2,\n"mediaType": "application/vnd.oci.image.manifest.v1+json"  }\n'
SHA256 = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
SHA512 = "sha512:" + hashlib.sha512(MANIFEST).hexdigest()
TAG_PATH = "/v2/team/app/manifests/v1"


def test_client_resolve_hashes_body_sha256(registry, make_client):
    registry.script("HEAD", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST))
    registry.script("GET", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST))
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == SHA256
    assert manifest.media_type == OCI_MANIFEST
    assert manifest.size == len(MANIFEST)
    assert [request.method for request in registry.requests] == ["HEAD", "GET"]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_resolve_hashes_body_sha512(registry, make_client):
    path = "/v2/team/app/manifests/" + SHA512
    registry.script("HEAD", path, manifest_reply(MANIFEST, OCI_MANIFEST))
    registry.script("GET", path, manifest_reply(MANIFEST, OCI_MANIFEST))
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", SHA512, expected_digest=SHA512)

    assert manifest.digest == SHA512
    assert [request.method for request in registry.requests] == ["HEAD", "GET"]


@pytest.mark.parametrize("header", [
    SHA256,
    "sha512:" + "0" * 10,
    "garbage",
], ids=["other_algorithm", "wrong_length", "not_a_digest"])
def test_client_resolve_bad_digest_header_hashes(registry, make_client, header):
    path = "/v2/team/app/manifests/" + SHA512
    registry.script("HEAD", path, manifest_reply(MANIFEST, OCI_MANIFEST, header))
    registry.script("GET", path, manifest_reply(MANIFEST, OCI_MANIFEST, header))
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", SHA512, expected_digest=SHA512)

    assert manifest.digest == SHA512
    assert [request.method for request in registry.requests] == ["HEAD", "GET"]


def test_client_resolve_digest_header_used(registry, make_client):
    registry.script("HEAD", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST + "; charset=utf-8", SHA256))
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == SHA256
    assert manifest.media_type == OCI_MANIFEST
    assert [request.method for request in registry.requests] == ["HEAD"]


def test_client_resolve_no_content_type_reads_body(registry, make_client):
    path = "/v2/team/app/manifests/" + SHA256
    registry.script("HEAD", path, Reply(200, [("Docker-Content-Digest", SHA256)], MANIFEST))
    registry.script("GET", path, Reply(200, [("Docker-Content-Digest", SHA256)], MANIFEST))
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", SHA256, expected_digest=SHA256)

    assert manifest.digest == SHA256
    assert manifest.media_type == OCI_MANIFEST
    assert [request.method for request in registry.requests] == ["HEAD", "GET"]


def test_client_resolve_accept_lists_manifest_types(registry, make_client):
    registry.script("HEAD", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST))
    registry.script("GET", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST))
    client = make_client(registry)

    client.resolve_manifest("team/app", "v1")

    expected = [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
    assert list(MANIFEST_ACCEPT) == expected
    for request in registry.requests:
        assert request.header("Accept").split(", ") == expected


def test_client_resolve_not_found(registry, make_client):
    registry.script("HEAD", TAG_PATH, oci_error(404, "MANIFEST_UNKNOWN", "manifest unknown"))
    client = make_client(registry)

    assert client.resolve_manifest("team/app", "v1") is None
    assert len(registry.requests) == 1


def test_client_resolve_server_error(registry, make_client):
    registry.script("HEAD", TAG_PATH, Reply(500, [("Content-Type", "text/plain")], "storage backend down"))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.status == 500
    assert "failed to resolve manifest 'v1' in team/app" in raised.value.msg
    assert "HTTP 500 to HEAD /v2/team/app/manifests/v1" in raised.value.msg
    assert len(registry.requests) == 1


def test_client_resolve_manifest_too_large(registry, make_client, monkeypatch):
    from ansible_collections.oci.registry.plugins.module_utils import _client

    monkeypatch.setattr(_client, "MANIFEST_BODY_LIMIT", 16)
    registry.script("HEAD", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST))
    registry.script("GET", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert "larger than 16 bytes" in raised.value.msg


def test_client_delete_405_unsupported(registry, make_client):
    path = "/v2/team/app/manifests/" + SHA256
    registry.script("DELETE", path, oci_error(405, "UNSUPPORTED", "The operation is unsupported."))
    client = make_client(registry)

    with pytest.raises(DeletionDisabledError) as raised:
        client.delete_manifest("team/app", SHA256)

    assert "storage.delete.enabled" in raised.value.msg
    assert "UNSUPPORTED: The operation is unsupported." in raised.value.msg
    assert raised.value.codes == ["UNSUPPORTED"]
    assert raised.value.status == 405
    assert len(registry.requests) == 1
    assert client.stats.retries == 0


def test_client_delete_404_not_retried(registry, make_client):
    path = "/v2/team/app/manifests/" + SHA256
    registry.script("DELETE", path, oci_error(404, "MANIFEST_UNKNOWN", "manifest unknown"))
    client = make_client(registry)

    assert client.delete_manifest("team/app", SHA256) is False
    assert len(registry.requests) == 1
    assert client.stats.as_dict() == wire_stats(registry)


@pytest.mark.parametrize("status", [200, 202, 204])
def test_client_delete_accepted(registry, make_client, status):
    path = "/v2/team/app/manifests/" + SHA256
    registry.script("DELETE", path, Reply(status))
    client = make_client(registry)

    assert client.delete_manifest("team/app", SHA256) is True


def test_client_delete_blob_405(registry, make_client):
    digest = "sha256:" + "c" * 64
    registry.script("DELETE", "/v2/team/app/blobs/" + digest, Reply(405))
    client = make_client(registry)

    with pytest.raises(DeletionDisabledError) as raised:
        client.delete_blob("team/app", digest)

    assert "refused to delete blob %s in team/app with HTTP 405" % digest in raised.value.msg
