"""The referrers walk, the tag checks before a delete and the tag helpers, with stub clients instead of HTTP."""

import json

import pytest

from ansible_collections.oci.registry.plugins.module_utils._client import Manifest
from ansible_collections.oci.registry.plugins.module_utils._errors import RegistryError, UnexpectedResponseError
from ansible_collections.oci.registry.plugins.module_utils._referrers import (
    MAX_REFERRER_DEPTH,
    ReferrerFinder,
    is_referrers_tag,
    referrers_tag,
)
from ansible_collections.oci.registry.plugins.module_utils._tags import (
    ParentIndex,
    check_tags,
    is_tag_delete_unsupported,
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def digest_of(name):
    return "sha256:" + name.encode().hex().ljust(64, "0")[:64]


class StubClient(object):
    """Serves referrers from a dict ``{subject name: [referrer names]}``; records calls.

    With ``api=False`` the referrers API returns None (a 404) and the referrers come from
    a tag schema index per subject instead.
    """

    def __init__(self, graph, api=True):
        self.graph = graph
        self.api = api
        self.calls = []

    def list_referrers(self, repository, digest):
        self.calls.append(("referrers", digest))
        if not self.api:
            return None
        return [{"mediaType": OCI_MANIFEST, "digest": digest_of(name), "artifactType": "x/" + name}
                for name in self.graph.get(self._name(digest), [])]

    def get_manifest(self, repository, reference):
        self.calls.append(("manifest", reference))
        if reference.startswith("sha256-"):
            children = self.graph.get(self._name("sha256:" + reference[7:]), [])
            if not children:
                return None, None
            body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": digest_of(name)} for name in children]}).encode()
            return Manifest("sha256:" + "e" * 64, OCI_INDEX, len(body)), body
        name = self._name(reference)
        subject = next(parent for parent, children in self.graph.items() if name in children)
        body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "x/" + name,
                           "subject": {"digest": digest_of(subject)}}).encode()
        return Manifest(reference, OCI_MANIFEST, len(body)), body

    def _name(self, digest):
        names = set(self.graph) | set(child for children in self.graph.values() for child in children)
        return next((name for name in names if digest_of(name) == digest), None)


def names(referrers):
    return [item.artifact_type[2:] for item in referrers]


def test_referrers_tag_sha256():
    digest = "sha256:" + "ab" * 32

    assert referrers_tag(digest) == "sha256-" + "ab" * 32


def test_referrers_tag_sha512_truncated():
    digest = "sha512:" + "cd" * 64

    assert referrers_tag(digest) == "sha512-" + "cd" * 32


@pytest.mark.parametrize("tag, expected", [
    ("sha256-" + "a" * 64, True),
    ("sha512-" + "0" * 64, True),
    ("build-" + "a" * 64, False),
    ("sha256-" + "a" * 64 + ".sig", False),
    ("sha256-" + "A" * 64, False),
    ("latest", False),
])
def test_is_referrers_tag(tag, expected):
    assert is_referrers_tag(tag) is expected


def test_tree_depth_first_with_api():
    client = StubClient({"image": ["sig", "sbom"], "sbom": ["sbom-sig"]})

    referrers, indexes = ReferrerFinder(client, "repo").tree(digest_of("image"))

    assert names(referrers) == ["sig", "sbom-sig", "sbom"]
    assert indexes == []
    assert [item.subject for item in referrers] == [digest_of("image"), digest_of("sbom"), digest_of("image")]


def test_tree_tag_schema_after_one_404():
    client = StubClient({"image": ["sig", "sbom"], "sbom": ["sbom-sig"]}, api=False)

    referrers, indexes = ReferrerFinder(client, "repo").tree(digest_of("image"))

    assert names(referrers) == ["sig", "sbom-sig", "sbom"]
    assert [index.subject for index in indexes] == [digest_of("sbom"), digest_of("image")]
    assert [call for call in client.calls if call[0] == "referrers"] == [("referrers", digest_of("image"))]


def test_tree_skips_tags_missing_from_known_tags():
    client = StubClient({"image": ["sig"]}, api=False)
    known = [referrers_tag(digest_of("image")), "v1"]

    referrers = ReferrerFinder(client, "repo", known_tags=known).tree(digest_of("image"))[0]

    assert names(referrers) == ["sig"]
    assert ("manifest", referrers_tag(digest_of("sig"))) not in client.calls


def test_tree_ignores_cycles():
    client = StubClient({"image": ["sig"], "sig": ["image"]})

    referrers = ReferrerFinder(client, "repo").tree(digest_of("image"))[0]

    assert names(referrers) == ["sig"]


def test_tree_depth_limit():
    chain = {"n%d" % level: ["n%d" % (level + 1)] for level in range(MAX_REFERRER_DEPTH + 1)}
    client = StubClient(chain)

    with pytest.raises(UnexpectedResponseError) as raised:
        ReferrerFinder(client, "repo").tree(digest_of("n0"))

    assert "deeper than %d levels" % MAX_REFERRER_DEPTH in raised.value.msg


@pytest.mark.parametrize("status, codes, expected", [
    (400, ["DIGEST_INVALID"], True),
    (400, ["UNSUPPORTED"], True),
    (405, ["UNSUPPORTED"], True),
    (405, [], True),
    (400, ["NAME_INVALID"], False),
    (400, [], False),
    (403, ["DENIED"], False),
    (500, [], False),
])
def test_is_tag_delete_unsupported(status, codes, expected):
    error = RegistryError("failed", status=status, codes=codes)

    assert is_tag_delete_unsupported(error) is expected


# Digests the registry lists -------------------------------------------------------------

VICTIM = "sha256:" + "ab" * 32
INVALID_DIGESTS = ["../../victim/manifests/" + VICTIM, "latest", "sha256:" + "AB" * 32, ""]


class ListingClient(object):
    """Returns fixed referrers API descriptors, or a fixed referrers tag schema index; records calls."""

    def __init__(self, api_descriptors=None, index_descriptors=None, index_digest="sha256:" + "e" * 64):
        self.api_descriptors = api_descriptors
        self.index_descriptors = index_descriptors
        self.index_digest = index_digest
        self.calls = []

    def list_referrers(self, repository, digest):
        self.calls.append(("referrers", digest))
        return self.api_descriptors

    def get_manifest(self, repository, reference):
        self.calls.append(("manifest", reference))
        if reference.startswith("sha256-") and self.index_descriptors is not None:
            body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                               "manifests": self.index_descriptors}).encode()
            return Manifest(self.index_digest, OCI_INDEX, len(body)), body
        return None, None


@pytest.mark.parametrize("invalid", INVALID_DIGESTS)
def test_referrers_api_invalid_digest_raises(invalid):
    client = ListingClient(api_descriptors=[{"mediaType": OCI_MANIFEST, "digest": digest_of("sig")},
                                            {"mediaType": OCI_MANIFEST, "digest": invalid}])

    with pytest.raises(UnexpectedResponseError) as raised:
        ReferrerFinder(client, "repo").tree(digest_of("image"))

    assert raised.value.msg == (
        "the value %r that the referrers API lists for %s in repo is not a valid digest, so it is "
        "neither read nor deleted. Nothing was deleted." % (invalid, digest_of("image"))
    )
    assert client.calls == [("referrers", digest_of("image"))]


@pytest.mark.parametrize("invalid", INVALID_DIGESTS[:3])
def test_referrers_index_invalid_entry_raises(invalid):
    client = ListingClient(index_descriptors=[{"mediaType": OCI_MANIFEST, "digest": invalid}])

    with pytest.raises(UnexpectedResponseError) as raised:
        ReferrerFinder(client, "repo").direct(digest_of("image"))

    assert "the referrers index %s lists in repo is not a valid digest" % referrers_tag(digest_of("image")) \
        in raised.value.msg
    assert ("manifest", invalid) not in client.calls


def test_referrers_index_invalid_own_digest_raises():
    client = ListingClient(index_descriptors=[], index_digest="../../victim/manifests/" + VICTIM)

    with pytest.raises(UnexpectedResponseError) as raised:
        ReferrerFinder(client, "repo").tree(digest_of("image"))

    assert "reports as the digest of the referrers index" in raised.value.msg
    assert "Nothing was deleted." in raised.value.msg


# The tags a delete affects ----------------------------------------------------------------

TARGET = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64
INDEX = "sha256:" + "3" * 64
SECOND_INDEX = "sha256:" + "4" * 64


class TagClient(object):
    """Serves a tag list and, per tag, a (digest, media type) and per digest a manifest body."""

    def __init__(self, tags, bodies=None):
        self.tags = tags
        self.bodies = bodies or {}
        self.calls = []

    def list_tags(self, repository):
        self.calls.append(("list",))
        return [name for name in self.tags if not name.startswith("unlisted-")]

    def resolve_manifest(self, repository, reference):
        self.calls.append(("head", reference))
        found = self.tags.get(reference)
        if found is None:
            return None
        return Manifest(found[0], found[1], 100)

    def get_manifest(self, repository, reference):
        self.calls.append(("get", reference))
        if reference not in self.bodies:
            return None, None
        media_type, body = self.bodies[reference]
        return Manifest(reference, media_type, len(body)), body


def index_body(*children):
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                       "manifests": [{"mediaType": OCI_MANIFEST, "digest": child} for child in children]}).encode()


def test_check_tags_shared_and_parent_indexes():
    client = TagClient(
        {
            "1.0-amd64": (TARGET, OCI_MANIFEST),
            "latest-amd64": (TARGET, OCI_MANIFEST),
            "1.0": (INDEX, OCI_INDEX),
            "latest": (INDEX, OCI_INDEX),
            "2.0": (SECOND_INDEX, OCI_INDEX),
            "other": (OTHER, OCI_MANIFEST),
        },
        {INDEX: (OCI_INDEX, index_body(TARGET, OTHER)), SECOND_INDEX: (OCI_INDEX, index_body(OTHER))},
    )

    result = check_tags(client, "repo", TARGET, "1.0-amd64")

    assert result.shared == ["latest-amd64"]
    assert result.parent_indexes == [ParentIndex("1.0", INDEX), ParentIndex("latest", INDEX)]
    assert result.all_tags == ["1.0-amd64", "latest-amd64", "1.0", "latest", "2.0", "other"]
    # One GET per distinct index digest, none for image manifests.
    assert [call for call in client.calls if call[0] == "get"] == [("get", INDEX), ("get", SECOND_INDEX)]


def test_check_tags_unknown_media_type_read_as_index():
    client = TagClient({"v1": (TARGET, OCI_MANIFEST), "multi": (INDEX, None), "plain": (OTHER, None)},
                       {INDEX: (None, index_body(TARGET)), OTHER: (None, b'{"schemaVersion": 2, "layers": []}')})

    result = check_tags(client, "repo", TARGET, "v1")

    assert result.parent_indexes == [ParentIndex("multi", INDEX)]
    assert ("get", OTHER) in client.calls


def test_check_tags_referrers_tags_not_resolved():
    schema_tag = "sha256-" + "9" * 64
    client = TagClient({"v1": (TARGET, OCI_MANIFEST), schema_tag: (INDEX, OCI_INDEX)},
                       {INDEX: (OCI_INDEX, index_body(TARGET))})

    result = check_tags(client, "repo", TARGET, "v1")

    assert result.parent_indexes == []
    assert client.calls == [("list",)]


def test_check_tags_tag_missing_from_list_raises():
    client = TagClient({"unlisted-v1": (TARGET, OCI_MANIFEST), "other": (OTHER, OCI_MANIFEST)})

    with pytest.raises(UnexpectedResponseError) as raised:
        check_tags(client, "repo", TARGET, "unlisted-v1")

    assert raised.value.msg.startswith("the tag list of repo that the registry returned does not contain tag "
                                       "unlisted-v1, although the tag resolved to %s" % TARGET)
    assert "Nothing was deleted." in raised.value.msg
    assert client.calls == [("list",)]


@pytest.mark.parametrize("listed", ["../../victim/manifests/x", ".hidden", "a" * 129])
def test_check_tags_invalid_listed_tag_raises(listed):
    client = TagClient({"v1": (TARGET, OCI_MANIFEST), listed: (TARGET, OCI_MANIFEST)})

    with pytest.raises(UnexpectedResponseError) as raised:
        check_tags(client, "repo", TARGET, "v1")

    assert raised.value.msg == ("the tag list of repo contains %r, which is not a valid tag, so the manifest "
                                "it points to cannot be checked. Nothing was deleted." % listed)
    assert ("head", listed) not in client.calls


@pytest.mark.parametrize("body, expected", [
    (b"<html></html>", "is not a JSON object."),
    (b'{"schemaVersion": 2, "layers": []}', "has the media type %s of an image index, but no 'manifests' list." % OCI_INDEX),
])
def test_check_tags_unreadable_index_raises(body, expected):
    client = TagClient({"v1": (TARGET, OCI_MANIFEST), "multi": (INDEX, OCI_INDEX)}, {INDEX: (OCI_INDEX, body)})

    with pytest.raises(UnexpectedResponseError) as raised:
        check_tags(client, "repo", TARGET, "v1")

    assert expected in raised.value.msg
    assert raised.value.msg.endswith("so nothing was deleted. Set shared_tags=ignore to delete without this check.")


def test_check_tags_index_gone_skipped():
    client = TagClient({"v1": (TARGET, OCI_MANIFEST), "multi": (INDEX, OCI_INDEX)})

    result = check_tags(client, "repo", TARGET, "v1")

    assert result.parent_indexes == []
    assert ("get", INDEX) in client.calls
