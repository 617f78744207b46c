"""Tag list pagination and the referrers API, which Distribution 2.8 does not offer.

The modules run as subprocesses against ``MemoryRegistry``, which paginates with
``Link`` headers and serves ``GET /v2/<name>/referrers/<digest>``.
"""

from urllib.parse import parse_qsl

import pytest

from memoryregistry import MemoryRegistry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
REPOSITORY = "team/app"
TAGS = ["a1", "a2", "b1", "b2", "c1"]


def seed_image(registry, tags, created="2024-01-01T00:00:00Z"):
    config = registry.add_blob(REPOSITORY, ('{"created": "%s", "architecture": "amd64", "os": "linux"}'
                                            % created).encode())
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 1},
        "layers": [],
        "annotations": {"created-as": created},
    }
    digest, body = registry.add_manifest(REPOSITORY, document, tags=tags)
    return digest, len(body)


def seed_referrer(registry, subject, artifact_type):
    empty = registry.add_blob(REPOSITORY, b"{}")
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY, "digest": empty, "size": 2},
        "layers": [{"mediaType": EMPTY, "digest": empty, "size": 2}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject[0], "size": subject[1]},
    }
    digest, body = registry.add_manifest(REPOSITORY, document)
    return digest, len(body)


@pytest.fixture
def run(module_runner):
    def run_module(name, registry, **options):
        args = dict(registry=registry.address, plain_http=True, repository=REPOSITORY, **options)
        return module_runner.run(name, args)

    return run_module


def tag_list_queries(registry):
    return [dict(parse_qsl(record.query)) for record in registry.log if record.path.endswith("/tags/list")]


# Tag list pagination -------------------------------------------------------------------


def test_tag_info_follows_link_pages(run):
    with MemoryRegistry(tag_page_size=2) as registry:
        seed_image(registry, TAGS)
        registry.reset_log()

        result = run("oci_tag_info", registry)

        assert result.get("failed") is not True, result.get("msg")
        assert result["tags"] == TAGS
        assert tag_list_queries(registry) == [{}, {"n": "2", "last": "a2"}, {"n": "2", "last": "b2"}]
        assert result["requests"]["total"] == 3


def test_tag_info_page_size_sets_n(run):
    with MemoryRegistry() as registry:
        seed_image(registry, TAGS)
        registry.reset_log()

        result = run("oci_tag_info", registry, page_size=4)

        assert result["tags"] == TAGS
        assert tag_list_queries(registry) == [{"n": "4"}, {"n": "4", "last": "b2"}]


def test_tag_info_pattern_after_all_pages(run):
    with MemoryRegistry(tag_page_size=1) as registry:
        seed_image(registry, TAGS)
        registry.reset_log()

        result = run("oci_tag_info", registry, pattern="1$", details=True)

        assert result["tags"] == ["a1", "b1", "c1"]
        assert [item["created"] for item in result["tag_details"]] == ["2024-01-01T00:00:00Z"] * 3
        # 5 list pages, 3 manifests, 1 config shared by all tags.
        assert result["requests"]["by_method"] == {"GET": 9}


def test_tag_info_page_size_invalid(run):
    with MemoryRegistry() as registry:
        result = run("oci_tag_info", registry, page_size=0)

        assert result["failed"] is True
        assert "page_size is 0" in result["msg"]
        assert registry.log == []


def test_manifest_shared_tags_across_pages(run):
    with MemoryRegistry(tag_page_size=2) as registry:
        digest = seed_image(registry, ["a1", "b2", "c1"])[0]
        seed_image(registry, ["a2", "b1"], created="2024-02-01T00:00:00Z")
        registry.reset_log()

        result = run("oci_manifest", registry, tag="a1", state="absent", referrers="ignore")

        assert result.get("failed") is not True, result.get("msg")
        assert result["shared_tags"] == ["b2", "c1"]
        assert sorted(registry.repository(REPOSITORY).tags) == ["a2", "b1"]
        assert digest not in registry.repository(REPOSITORY).manifests
        # HEAD a1, 3 list pages, HEAD a2 b1 b2 c1, DELETE.
        assert result["requests"]["by_method"] == {"DELETE": 1, "GET": 3, "HEAD": 5}


# Referrers API -------------------------------------------------------------------------


def test_manifest_delete_referrers_with_api(run):
    with MemoryRegistry(referrers_api=True) as registry:
        image = seed_image(registry, ["v1"])
        signature = seed_referrer(registry, image, "application/vnd.example.signature.v1")
        sbom = seed_referrer(registry, image, "application/vnd.example.sbom.v1")
        sbom_signature = seed_referrer(registry, sbom, "application/vnd.example.signature.v1")
        registry.reset_log()

        result = run("oci_manifest", registry, digest=image[0], state="absent", delete_referrers=True)

        assert result.get("failed") is not True, result.get("msg")
        deleted = [record.path.rsplit("/", 1)[1] for record in registry.log if record.method == "DELETE"]
        assert deleted.index(sbom_signature[0]) < deleted.index(sbom[0])
        assert deleted[-1] == image[0]
        assert sorted(deleted) == sorted([image[0], signature[0], sbom[0], sbom_signature[0]])
        assert result["referrers_indexes"] == []
        # HEAD, 4 referrers lists (image, signature, sbom, sbom signature), 4 DELETEs.
        assert result["requests"]["by_method"] == {"DELETE": 4, "GET": 4, "HEAD": 1}
        assert not any("/tags/" in record.path or "sha256-" in record.path for record in registry.log)
        assert registry.repository(REPOSITORY).manifests == {}


def test_manifest_referrers_api_pages(run):
    with MemoryRegistry(referrers_api=True, referrers_page_size=1) as registry:
        image = seed_image(registry, ["v1"])
        first = seed_referrer(registry, image, "application/vnd.example.signature.v1")
        second = seed_referrer(registry, image, "application/vnd.example.sbom.v1")
        registry.reset_log()

        result = run("oci_manifest", registry, digest=image[0], state="absent", referrers="fail")

        assert result["failed"] is True
        assert "2 manifests" in result["msg"]
        assert first[0] in result["msg"]
        assert second[0] in result["msg"]
        referrer_pages = [record.query for record in registry.log if "/referrers/" in record.path]
        assert referrer_pages == ["", "page=1"]
        assert image[0] in registry.repository(REPOSITORY).manifests


def test_manifest_referrers_warn_with_api(run):
    with MemoryRegistry(referrers_api=True) as registry:
        image = seed_image(registry, ["v1"])
        signature = seed_referrer(registry, image, "application/vnd.example.signature.v1")
        registry.reset_log()

        result = run("oci_manifest", registry, tag="v1", state="absent", shared_tags="ignore")

        assert result["changed"] is True
        assert result["referrers"] == [{
            "digest": signature[0],
            "media_type": OCI_MANIFEST,
            "artifact_type": "application/vnd.example.signature.v1",
            "subject": image[0],
        }]
        assert signature[0] in registry.repository(REPOSITORY).manifests
        # HEAD, one referrers list, DELETE: the floor plus one request.
        assert result["requests"]["total"] == 3
