"""oci_tag state=absent on registries that respond to DELETE on a tag differently than Distribution 2.8.

Runs the module as a subprocess against ``MemoryRegistry``; the Distribution 2.8 path
(400 DIGEST_INVALID, then the placeholder) is tested on the real registry in
tests/integration/test_oci_tag.py.
"""

import hashlib
import json

import pytest

from memoryregistry import MemoryRegistry

from ansible_collections.oci.registry.plugins.module_utils._tags import (
    EMPTY_DATA,
    placeholder_digest,
    placeholder_manifest,
)

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPOSITORY = "team/app"


def seed_image(registry, tags):
    config = registry.add_blob(REPOSITORY, b'{"created": "2024-01-01T00:00:00Z"}')
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 34},
        "layers": [],
    }
    return registry.add_manifest(REPOSITORY, document, tags=tags)[0]


@pytest.fixture
def untag(module_runner):
    """Run oci_tag state=absent for ``tag`` against a MemoryRegistry."""
    def run(registry, tag, **options):
        args = dict(registry=registry.address, plain_http=True, repository=REPOSITORY, tag=tag, state="absent",
                    **options)
        return module_runner.run("oci_tag", args)

    return run


def calls(registry):
    return [(record.method, record.status) for record in registry.log]


def test_untag_oci11_registry_deletes_tag_only(untag):
    with MemoryRegistry(tag_delete="accept") as registry:
        digest = seed_image(registry, ["v1", "v2"])
        registry.reset_log()

        result = untag(registry, "v1")

        assert result.get("failed") is not True, result.get("msg")
        assert result["changed"] is True
        assert result["untag_method"] == "delete"
        assert "placeholder_digest" not in result
        assert calls(registry) == [("HEAD", 200), ("DELETE", 202)]
        assert result["requests"]["total"] == 2
        assert registry.repository(REPOSITORY).tags == {"v2": digest}
        assert digest in registry.repository(REPOSITORY).manifests


def test_untag_405_without_fallback_explains(untag):
    with MemoryRegistry(tag_delete="unsupported") as registry:
        digest = seed_image(registry, ["v1"])

        result = untag(registry, "v1")

        assert result["failed"] is True
        assert "HTTP 405 UNSUPPORTED" in result["msg"]
        assert "deletes nothing at all" in result["msg"]
        assert "untag_fallback=placeholder" in result["msg"]
        assert registry.repository(REPOSITORY).tags == {"v1": digest}


def test_untag_405_with_fallback_uses_placeholder(untag):
    with MemoryRegistry(tag_delete="unsupported") as registry:
        digest = seed_image(registry, ["v1", "v2"])
        registry.reset_log()

        result = untag(registry, "v1", untag_fallback="placeholder")

        assert result.get("failed") is not True, result.get("msg")
        assert result["untag_method"] == "placeholder"
        assert result["placeholder_digest"] == placeholder_digest("v1")
        assert calls(registry) == [
            ("HEAD", 200), ("DELETE", 405), ("DELETE", 404), ("HEAD", 404), ("POST", 202), ("PUT", 201),
            ("PUT", 201), ("DELETE", 202),
        ]
        assert registry.repository(REPOSITORY).tags == {"v2": digest}
        assert placeholder_digest("v1") not in registry.repository(REPOSITORY).manifests


def test_untag_all_deletes_disabled_changes_nothing(untag):
    with MemoryRegistry(manifest_delete=False) as registry:
        digest = seed_image(registry, ["v1"])
        registry.reset_log()

        result = untag(registry, "v1", untag_fallback="placeholder")

        assert result["failed"] is True
        assert "Nothing was changed: tag v1 still points to %s" % digest in result["msg"]
        assert calls(registry) == [("HEAD", 200), ("DELETE", 405), ("DELETE", 405)]
        assert registry.repository(REPOSITORY).tags == {"v1": digest}


def test_untag_resumes_from_leftover_placeholder(untag):
    with MemoryRegistry() as registry:
        digest = seed_image(registry, ["v2"])
        registry.add_blob(REPOSITORY, EMPTY_DATA)
        registry.add_manifest(REPOSITORY, placeholder_manifest("v1"), tags=["v1"])
        registry.reset_log()

        result = untag(registry, "v1", untag_fallback="placeholder")

        assert result.get("failed") is not True, result.get("msg")
        assert result["digest"] == placeholder_digest("v1")
        assert calls(registry) == [("HEAD", 200), ("DELETE", 400), ("DELETE", 404), ("DELETE", 202)]
        assert registry.repository(REPOSITORY).tags == {"v2": digest}


def test_placeholder_manifest_names_tag():
    document = json.loads(placeholder_manifest("nightly"))

    assert document["annotations"]["oci.registry.placeholder.tag"] == "nightly"
    assert document["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert document["config"]["size"] == 2
    assert document["layers"] == [document["config"]]
    assert placeholder_digest("nightly") == "sha256:" + hashlib.sha256(placeholder_manifest("nightly")).hexdigest()
