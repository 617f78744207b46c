"""The referrers walk and the tag helpers, with a stub client instead of HTTP."""

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
from ansible_collections.oci.registry.plugins.module_utils._tags import is_tag_delete_unsupported

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
