"""oci_tag_info and oci_manifest_info against a real CNCF Distribution 2.8.2 registry.

Distribution 2.8 sends the whole tag list in one page; Link pagination is tested on an
in-memory registry in tests/unit/plugins/modules/test_oci_pagination_referrers.py.
"""

from collections import namedtuple

import pytest

from tests.support.images import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, push_image, push_index
from tests.support.referrers import SBOM_TYPE, push_referrer
from tests.support.registry import credentials
from tests.support.runner import run_module

# Requests per fresh module run: (total, token service).
EXPECTED_REQUESTS = {
    # GET tags/list.
    "list": {"token": (3, 1), "basic": (2, 0), "anonymous": (1, 0)},
    # The list, then for v1: manifest + config; for multi: index + first child + its config.
    # v1 and the first child share nothing, so nothing is served from the cache.
    "details": {"token": (8, 1), "basic": (7, 0), "anonymous": (6, 0)},
    # GET manifest + GET config.
    "manifest": {"token": (4, 1), "basic": (3, 0), "anonymous": (2, 0)},
    # GET index + GET first child + GET its config.
    "index": {"token": (5, 1), "basic": (4, 0), "anonymous": (3, 0)},
}

CREATED_V1 = "2024-03-01T10:00:00Z"
CREATED_AMD64 = "2024-04-01T10:00:00Z"
CREATED_ARM64 = "2024-04-02T10:00:00Z"


def run_info(module, stack, repository, check_mode=False, **options):
    args = dict(registry=stack.address, plain_http=True, repository=repository, **options)
    args.update(credentials(stack))
    return run_module(module, args, check_mode=check_mode)


def assert_requests(result, stack, expected):
    total, token = expected
    seen = stack.proxy.counts()
    assert result["requests"]["total"] == total, stack.proxy.log
    assert result["requests"]["token"] == token
    assert seen["total"] == result["requests"]["total"]
    assert seen["by_method"] == result["requests"]["by_method"]


Seeded = namedtuple("Seeded", ["v1", "amd64", "arm64", "multi"])


def seed(stack, repository, index_type=OCI_INDEX):
    """Push v1 (an image), multi (an index of amd64 and arm64) and rc1 (same image as v1)."""
    image_type = DOCKER_MANIFEST if index_type == DOCKER_MANIFEST_LIST else OCI_MANIFEST
    v1 = push_image(stack, repository, ["v1", "rc1"], created=CREATED_V1, seed=1)
    amd64 = push_image(stack, repository, [], architecture="amd64", created=CREATED_AMD64, seed=2,
                       media_type=image_type)
    arm64 = push_image(stack, repository, [], architecture="arm64", created=CREATED_ARM64, seed=3,
                       media_type=image_type)
    multi = push_index(stack, repository, ["multi"], [amd64, arm64], media_type=index_type)
    return Seeded(v1, amd64, arm64, multi)


# oci_tag_info --------------------------------------------------------------------------


def test_tag_info_lists_tags(registry, repository):
    seed(registry, repository)
    registry.proxy.reset()

    result = run_info("oci_tag_info", registry, repository)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert sorted(result["tags"]) == ["multi", "rc1", "v1"]
    assert "tag_details" not in result
    assert_requests(result, registry, EXPECTED_REQUESTS["list"][registry.mode])


def test_tag_info_details(registry, repository):
    seeded = seed(registry, repository)
    v1, multi = seeded.v1, seeded.multi
    registry.proxy.reset()

    result = run_info("oci_tag_info", registry, repository, pattern="^(v1|multi)$", details=True)

    assert result.get("failed") is not True, result.get("msg")
    details = {item["tag"]: item for item in result["tag_details"]}
    assert details["v1"] == {"tag": "v1", "digest": v1.digest, "media_type": OCI_MANIFEST, "created": CREATED_V1}
    assert details["multi"] == {"tag": "multi", "digest": multi.digest, "media_type": OCI_INDEX,
                                "created": CREATED_AMD64}
    assert [item["tag"] for item in result["tag_details"]] == result["tags"]
    assert_requests(result, registry, EXPECTED_REQUESTS["details"][registry.mode])


def test_tag_info_details_reads_shared_config_once(anonymous_registry, repository):
    v1 = seed(anonymous_registry, repository).v1
    anonymous_registry.proxy.reset()

    result = run_info("oci_tag_info", anonymous_registry, repository, pattern="^(v1|rc1)$", details=True)

    assert [item["digest"] for item in result["tag_details"]] == [v1.digest, v1.digest]
    blob_reads = [record for record in anonymous_registry.proxy.log if "/blobs/" in record.path]
    assert len(blob_reads) == 1


def test_tag_info_docker_manifest_list(anonymous_registry, repository):
    seed(anonymous_registry, repository, index_type=DOCKER_MANIFEST_LIST)

    result = run_info("oci_tag_info", anonymous_registry, repository, pattern="^multi$", details=True)

    assert result["tag_details"][0]["media_type"] == DOCKER_MANIFEST_LIST
    assert result["tag_details"][0]["created"] == CREATED_AMD64


def test_tag_info_artifact_has_no_created(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])
    push_referrer(anonymous_registry, repository, image, SBOM_TYPE, b"{}", tags=["sbom"])
    anonymous_registry.proxy.reset()

    result = run_info("oci_tag_info", anonymous_registry, repository, pattern="^sbom$", details=True)

    assert result["tag_details"][0]["created"] is None
    assert [record.method for record in anonymous_registry.proxy.log] == ["GET", "GET"]


def test_tag_info_pattern_filters(anonymous_registry, repository):
    seed(anonymous_registry, repository)

    result = run_info("oci_tag_info", anonymous_registry, repository, pattern="1$")

    assert sorted(result["tags"]) == ["rc1", "v1"]


def test_tag_info_unknown_repository_is_empty(anonymous_registry, repository):
    result = run_info("oci_tag_info", anonymous_registry, repository, details=True)

    assert result.get("failed") is not True, result.get("msg")
    assert result["tags"] == []
    assert result["tag_details"] == []


def test_tag_info_invalid_pattern_sends_nothing(anonymous_registry, repository):
    anonymous_registry.proxy.reset()

    result = run_info("oci_tag_info", anonymous_registry, repository, pattern="v[")

    assert result["failed"] is True
    assert "pattern 'v[' is not a valid regular expression" in result["msg"]
    assert result["requests"]["total"] == 0


def test_tag_info_check_mode_same_result(anonymous_registry, repository):
    seed(anonymous_registry, repository)

    planned = run_info("oci_tag_info", anonymous_registry, repository, check_mode=True, details=True)
    applied = run_info("oci_tag_info", anonymous_registry, repository, details=True)

    assert planned["changed"] is False
    assert planned["tag_details"] == applied["tag_details"]


# oci_manifest_info ---------------------------------------------------------------------


def test_manifest_info_image(registry, repository):
    v1 = seed(registry, repository).v1
    registry.proxy.reset()

    result = run_info("oci_manifest_info", registry, repository, tag="v1")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert result["exists"] is True
    assert result["digest"] == v1.digest
    assert result["media_type"] == OCI_MANIFEST
    assert result["size"] == v1.size
    assert result["created"] == CREATED_V1
    assert result["platforms"] == [{"architecture": "amd64", "os": "linux", "digest": v1.digest}]
    assert result["config"]["digest"] == v1.config_digest
    assert [layer["digest"] for layer in result["layers"]] == list(v1.layer_digests)
    assert result["manifests"] == []
    assert result["subject"] is None
    assert result["annotations"] == {}
    assert_requests(result, registry, EXPECTED_REQUESTS["manifest"][registry.mode])


@pytest.mark.parametrize("index_type", [OCI_INDEX, DOCKER_MANIFEST_LIST], ids=["oci", "docker"])
def test_manifest_info_index(anonymous_registry, repository, index_type):
    seeded = seed(anonymous_registry, repository, index_type=index_type)
    amd64, arm64, multi = seeded.amd64, seeded.arm64, seeded.multi
    anonymous_registry.proxy.reset()

    result = run_info("oci_manifest_info", anonymous_registry, repository, digest=multi.digest)

    assert result["digest"] == multi.digest
    assert result["media_type"] == index_type
    assert result["platforms"] == [
        {"architecture": "amd64", "os": "linux", "digest": amd64.digest},
        {"architecture": "arm64", "os": "linux", "digest": arm64.digest},
    ]
    assert [child["digest"] for child in result["manifests"]] == [amd64.digest, arm64.digest]
    assert result["config"] is None
    assert result["created"] == CREATED_AMD64
    assert_requests(result, anonymous_registry, EXPECTED_REQUESTS["index"]["anonymous"])


def test_manifest_info_index_request_counts(registry, repository):
    multi = seed(registry, repository).multi
    registry.proxy.reset()

    result = run_info("oci_manifest_info", registry, repository, tag="multi")

    assert result["digest"] == multi.digest
    assert_requests(result, registry, EXPECTED_REQUESTS["index"][registry.mode])


def test_manifest_info_referrer(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])
    sbom = push_referrer(anonymous_registry, repository, image, SBOM_TYPE, b"{}")

    result = run_info("oci_manifest_info", anonymous_registry, repository, digest=sbom.digest)

    assert result["artifact_type"] == SBOM_TYPE
    assert result["subject"] == {"mediaType": OCI_MANIFEST, "digest": image.digest, "size": image.size}
    assert result["annotations"] == {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
    assert result["created"] is None
    assert result["platforms"] == []
    assert result["requests"]["total"] == 1


def test_manifest_info_missing(anonymous_registry, repository):
    push_image(anonymous_registry, repository, ["v1"])
    anonymous_registry.proxy.reset()

    result = run_info("oci_manifest_info", anonymous_registry, repository, tag="nope")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert result["exists"] is False
    assert "digest" not in result
    assert result["requests"]["total"] == 1
