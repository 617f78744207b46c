"""Digests and tags that go into URL paths are checked before any request.

Some come from registry responses (Docker-Content-Digest, referrers lists), so a value
such as ``../../victim/manifests/<digest>`` must stop the client, not reach the wire.
"""

import hashlib

import pytest

from fakeregistry import json_reply, manifest_reply
from ansible_collections.oci.registry.plugins.module_utils._errors import (
    InvalidInputError,
    UnexpectedResponseError,
)
from ansible_collections.oci.registry.plugins.module_utils._reference import (
    validate_digest,
    validate_registry,
    validate_repository,
    validate_tag,
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
SHA256 = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
SHA512 = "sha512:" + hashlib.sha512(MANIFEST).hexdigest()
VICTIM = "sha256:" + "ab" * 32
TRAVERSAL = "../../victim/manifests/" + VICTIM
TAG_PATH = "/v2/team/app/manifests/v1"


# get_manifest and put_manifest: the registry's digest header ---------------------------

@pytest.mark.parametrize("header", [TRAVERSAL, "latest", "sha256:" + "0" * 10, SHA512],
                         ids=["traversal", "tag", "short", "other_algorithm"])
def test_client_get_manifest_bad_digest_header_hashed(registry, make_client, header):
    registry.script("GET", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST, header))
    client = make_client(registry)

    manifest, body = client.get_manifest("team/app", "v1")

    assert manifest.digest == SHA256
    assert body == MANIFEST


def test_client_get_manifest_sha512_reference_hashed_sha512(registry, make_client):
    path = "/v2/team/app/manifests/" + SHA512
    registry.script("GET", path, manifest_reply(MANIFEST, OCI_MANIFEST, SHA256))
    client = make_client(registry)

    manifest, _body = client.get_manifest("team/app", SHA512)

    assert manifest.digest == SHA512


def test_client_get_manifest_digest_header_used(registry, make_client):
    header = "sha256:" + "e" * 64
    registry.script("GET", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST, header))
    client = make_client(registry)

    manifest, _body = client.get_manifest("team/app", "v1")

    assert manifest.digest == header


def test_client_put_manifest_bad_digest_header_hashed(registry, make_client):
    registry.script("PUT", TAG_PATH, manifest_reply(b"", OCI_MANIFEST, TRAVERSAL))
    client = make_client(registry)

    assert client.put_manifest("team/app", "v1", MANIFEST, OCI_MANIFEST) == SHA256


# Every verb checks the digest or tag it puts into the path ------------------------------

DIGEST_VERBS = [
    ("delete_manifest", lambda client, value: client.delete_manifest("team/app", value),
     "delete a manifest in team/app"),
    ("delete_blob", lambda client, value: client.delete_blob("team/app", value), "delete a blob in team/app"),
    ("get_blob", lambda client, value: client.get_blob("team/app", value), "read a blob in team/app"),
    ("blob_exists", lambda client, value: client.blob_exists("team/app", value), "check a blob in team/app"),
    ("list_referrers", lambda client, value: client.list_referrers("team/app", value),
     "list referrers in team/app"),
    ("resolve_manifest", lambda client, value: client.resolve_manifest("team/app", value),
     "resolve a manifest in team/app"),
    ("get_manifest", lambda client, value: client.get_manifest("team/app", value), "read a manifest in team/app"),
    ("put_manifest", lambda client, value: client.put_manifest("team/app", value, MANIFEST, OCI_MANIFEST),
     "put a manifest in team/app"),
]


@pytest.mark.parametrize("call, operation", [case[1:] for case in DIGEST_VERBS], ids=[case[0] for case in DIGEST_VERBS])
def test_client_digest_traversal_refused(registry, make_client, call, operation):
    client = make_client(registry)

    with pytest.raises(InvalidInputError) as raised:
        call(client, TRAVERSAL)

    assert raised.value.msg == (
        "cannot %s: digest %r is invalid: expected '<algorithm>:<hex>', for example 'sha256:' "
        "followed by 64 lowercase hex digits. Nothing was sent." % (operation, TRAVERSAL)
    )
    assert registry.requests == []


@pytest.mark.parametrize("call, operation", [case[1:] for case in DIGEST_VERBS[:5]],
                         ids=[case[0] for case in DIGEST_VERBS[:5]])
def test_client_digest_tag_refused(registry, make_client, call, operation):
    client = make_client(registry)

    with pytest.raises(InvalidInputError) as raised:
        call(client, "latest")

    assert raised.value.msg.startswith("cannot %s: digest 'latest' is invalid" % operation)
    assert registry.requests == []


@pytest.mark.parametrize("call", [case[1] for case in DIGEST_VERBS[5:]], ids=[case[0] for case in DIGEST_VERBS[5:]])
def test_client_reference_bad_tag_refused(registry, make_client, call):
    client = make_client(registry)

    with pytest.raises(InvalidInputError) as raised:
        call(client, "../victim")

    assert "tag '../victim' is invalid" in raised.value.msg
    assert registry.requests == []


def test_client_delete_tag_bad_tag_refused(registry, make_client):
    client = make_client(registry)

    with pytest.raises(InvalidInputError) as raised:
        client.delete_tag("team/app", "latest/../../victim")

    assert raised.value.msg.startswith("cannot delete a tag in team/app: tag 'latest/../../victim' is invalid")
    assert registry.requests == []


def test_client_digest_not_string_refused(registry, make_client):
    client = make_client(registry)

    with pytest.raises(InvalidInputError) as raised:
        client.delete_manifest("team/app", 5)

    assert raised.value.msg == "cannot delete a manifest in team/app: the digest 5 is not a string. Nothing was sent."
    assert registry.requests == []


# Referrers listed by the registry -------------------------------------------------------

@pytest.mark.parametrize("entry, problem", [
    ({"mediaType": OCI_MANIFEST, "digest": TRAVERSAL, "size": 1}, "the invalid digest %r" % TRAVERSAL),
    ({"mediaType": OCI_MANIFEST, "digest": "latest", "size": 1}, "the invalid digest 'latest'"),
    ({"mediaType": OCI_MANIFEST, "size": 1}, "an entry whose digest is None, not a string"),
    ({"mediaType": OCI_MANIFEST, "digest": 7, "size": 1}, "an entry whose digest is 7, not a string"),
    ("sha256:" + "1" * 64, "the entry 'sha256:%s', which is not a JSON object" % ("1" * 64)),
], ids=["traversal", "tag", "no_digest", "number", "not_object"])
def test_client_list_referrers_bad_entry_refused(registry, make_client, entry, problem):
    path = "/v2/team/app/referrers/" + SHA256
    registry.script("GET", path, json_reply({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_referrers("team/app", SHA256)

    assert raised.value.msg == (
        "the registry %s listed %s in the referrers of %s in team/app; the referrers list cannot be trusted."
        % (registry.host, problem, SHA256)
    )
    assert len(registry.requests) == 1


# Echoed values are cut ------------------------------------------------------------------

HUGE = "a" * 1000000


@pytest.mark.parametrize("validate, value, start", [
    (validate_tag, HUGE + "/", "tag '%s'... (1000001 characters) is invalid" % HUGE[:100]),
    (validate_repository, HUGE, "repository '%s'... (1000000 characters) is 1000000 characters long" % HUGE[:100]),
    (validate_digest, "sha256:" + HUGE, "digest 'sha256:%s'... (1000007 characters) is invalid" % HUGE[:93]),
    (validate_registry, HUGE + ":1", "registry '%s'... (1000002 characters) has an invalid host" % HUGE[:100]),
], ids=["tag", "repository", "digest", "registry"])
def test_reference_echo_truncated(validate, value, start):
    with pytest.raises(InvalidInputError) as raised:
        validate(value)

    assert raised.value.msg.startswith(start)
    assert len(raised.value.msg) < 500


def test_client_reference_huge_tag_truncated(registry, make_client):
    client = make_client(registry)

    with pytest.raises(InvalidInputError) as raised:
        client.resolve_manifest("team/app", "a" * 129)

    assert raised.value.msg.startswith("cannot resolve a manifest in team/app: tag '%s'... (129 characters) is invalid"
                                       % ("a" * 100))
    assert registry.requests == []
