"""Redirects in RegistryClient.request: only GET and HEAD follow one, to a usable URL.

A redirected DELETE, PUT or POST fails with the Location in the message, and the fake
server receives nothing but the first request.
"""

import pytest

from fakeregistry import Reply, manifest_reply, wire_stats
from ansible_collections.oci.registry.plugins.module_utils._errors import UnexpectedResponseError

MANIFEST = b'{"schemaVersion": 2}'
DIGEST = "sha256:" + "d" * 64
OTHER = "sha256:" + "cd" * 32
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
FOUND = manifest_reply(MANIFEST, OCI_MANIFEST, DIGEST)
TAG_PATH = "/v2/team/app/manifests/v1"
DIGEST_PATH = "/v2/team/app/manifests/" + DIGEST
BLOB_PATH = "/v2/team/app/blobs/" + DIGEST
VICTIM_PATH = "/v2/victim/manifests/" + OTHER


def redirect(status, location):
    return Reply(status, [("Location", location)])


# (case id, method, path, client call)
WRITES = [
    ("delete_manifest", "DELETE", DIGEST_PATH, lambda client: client.delete_manifest("team/app", DIGEST)),
    ("delete_blob", "DELETE", BLOB_PATH, lambda client: client.delete_blob("team/app", DIGEST)),
    ("delete_tag", "DELETE", TAG_PATH, lambda client: client.delete_tag("team/app", "v1")),
    ("put_manifest", "PUT", TAG_PATH, lambda client: client.put_manifest("team/app", "v1", MANIFEST, OCI_MANIFEST)),
    ("upload_blob", "POST", "/v2/team/app/blobs/uploads/", lambda client: client.upload_blob("team/app", b"{}")),
]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method, path, call", [case[1:] for case in WRITES], ids=[case[0] for case in WRITES])
def test_client_redirect_write_not_followed(registry, make_client, status, method, path, call):
    registry.script(method, path, redirect(status, VICTIM_PATH))
    registry.script(method, VICTIM_PATH, Reply(202))
    registry.script("GET", VICTIM_PATH, FOUND)
    client = make_client(registry, username="alice", password="secret")

    with pytest.raises(UnexpectedResponseError) as raised:
        call(client)

    assert raised.value.status == status
    assert raised.value.msg == (
        "the registry %s answered %s %s with HTTP %d and a redirect to '%s'. The client follows "
        "redirects only for GET and HEAD, so the %s was not sent there."
        % (registry.host, method, path, status, VICTIM_PATH, method)
    )
    assert [(request.method, request.path) for request in registry.requests] == [(method, path)]
    assert client.stats.as_dict() == wire_stats(registry)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_client_redirect_head_keeps_method(registry, make_client, status):
    registry.script("HEAD", TAG_PATH, redirect(status, "/v2/team/app/manifests/v2"))
    registry.script("HEAD", "/v2/team/app/manifests/v2", FOUND)
    client = make_client(registry)

    manifest = client.resolve_manifest("team/app", "v1")

    assert manifest.digest == DIGEST
    assert [(request.method, request.path) for request in registry.requests] == [
        ("HEAD", TAG_PATH), ("HEAD", "/v2/team/app/manifests/v2"),
    ]


def test_client_redirect_get_followed(registry, make_client):
    registry.script("GET", BLOB_PATH, redirect(307, "/storage/blob?signature=abc"))
    registry.script("GET", "/storage/blob", Reply(200, body=b"config"))
    client = make_client(registry)

    assert client.get_blob("team/app", DIGEST) == b"config"
    assert len(registry.requests) == 2


@pytest.mark.parametrize("location, reason", [
    ("http://127.0.0.1:99999/x", "its port is not a number from 1 to 65535"),
    ("http://127.0.0.1:0/x", "its port is not a number from 1 to 65535"),
    ("ftp://127.0.0.1/x", "its scheme is 'ftp', not http or https"),
    ("http://[::1/x", "Invalid IPv6 URL"),
    ("https:///v2/x", "it names no host"),
], ids=["port_99999", "port_0", "ftp", "open_bracket", "no_host"])
def test_client_redirect_unusable_location(registry, make_client, location, reason):
    registry.script("HEAD", TAG_PATH, redirect(307, location))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg == (
        "the registry %s redirected HEAD %s to %r, which the client cannot follow: %s."
        % (registry.host, TAG_PATH, location, reason)
    )
    assert raised.value.status == 307
    assert len(registry.requests) == 1


def test_client_redirect_limit(registry, make_client):
    registry.script("HEAD", TAG_PATH, redirect(302, TAG_PATH))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg == "the registry %s redirected HEAD %s more than 5 times." % (registry.host, TAG_PATH)
    assert len(registry.requests) == 6
