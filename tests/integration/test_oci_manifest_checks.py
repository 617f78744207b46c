"""oci_manifest's shared-tag check and referrers handling on a real CNCF Distribution 2.8.2.

Distribution 2.8 has no referrers API (``GET /v2/<name>/referrers/<digest>`` returns
404), so the referrers below are found through the referrers tag schema index that a
client pushes there. ``signed_image`` builds an image with a signature and an SBOM
that refer to it, a signature of the SBOM, and an index per subject.
"""

from dataclasses import dataclass

from tests.support.images import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    Image,
    manifest_status,
    push_image,
    push_index,
    tag_list,
)
from tests.support.referrers import (
    SBOM_TYPE,
    SIGNATURE_TYPE,
    push_referrer,
    push_referrers_index,
    referrers_tag,
)
from tests.support.registry import credentials
from tests.support.runner import run_module, warning_messages

# Requests per fresh module run: (total, token service).
EXPECTED_REQUESTS = {
    # Delete by tag with the defaults, the tag alone on its manifest: HEAD, tag list,
    # referrers API (404), DELETE. The tag list shows that no sha256-<hex> tag exists.
    "default_tag": {"token": (6, 1), "basic": (5, 0), "anonymous": (4, 0)},
    # Delete by digest with the defaults: HEAD, referrers API (404), referrers tag (404), DELETE.
    "default_digest": {"token": (6, 1), "basic": (5, 0), "anonymous": (4, 0)},
    # Delete by tag, one other tag on the manifest: one more HEAD for it.
    "shared_tag": {"token": (7, 1), "basic": (6, 0), "anonymous": (5, 0)},
    # delete_referrers on signed_image by digest: HEAD, referrers API (404), 2 referrers
    # indexes, 3 referrer reads, 3 referrers tags (404), 3 referrers + 2 indexes + the image deleted.
    "delete_referrers": {"token": (17, 1), "basic": (16, 0), "anonymous": (15, 0)},
    # The same in check mode: no DELETE.
    "delete_referrers_check": {"token": (11, 1), "basic": (10, 0), "anonymous": (9, 0)},
    # Delete by tag of an index child, referrers ignored: HEAD, tag list, HEAD of the
    # index tag and of the other child's tag, one GET of the index, DELETE.
    "index_child": {"token": (8, 1), "basic": (7, 0), "anonymous": (6, 0)},
}


@dataclass(frozen=True)
class SignedImage:
    image: Image
    signature: Image
    sbom: Image
    sbom_signature: Image
    index: Image
    sbom_index: Image

    @property
    def referrers(self):
        return (self.signature, self.sbom, self.sbom_signature)


def signed_image(stack, repository, tags=("v1",)):
    image = push_image(stack, repository, list(tags))
    signature = push_referrer(stack, repository, image, SIGNATURE_TYPE, b"signature of the image")
    sbom = push_referrer(stack, repository, image, SBOM_TYPE, b'{"packages": []}')
    sbom_signature = push_referrer(stack, repository, sbom, SIGNATURE_TYPE, b"signature of the sbom")
    index = push_referrers_index(stack, repository, image, [signature, sbom], [SIGNATURE_TYPE, SBOM_TYPE])
    sbom_index = push_referrers_index(stack, repository, sbom, [sbom_signature], [SIGNATURE_TYPE])
    return SignedImage(image, signature, sbom, sbom_signature, index, sbom_index)


def delete_manifest(stack, repository, check_mode=False, diff=False, **options):
    args = dict(registry=stack.address, plain_http=True, repository=repository, state="absent", **options)
    args.update(credentials(stack))
    return run_module("oci_manifest", args, check_mode=check_mode, diff=diff)


def assert_requests(result, stack, expected):
    total, token = expected
    seen = stack.proxy.counts()
    assert result["requests"]["total"] == total, stack.proxy.log
    assert result["requests"]["token"] == token
    assert seen["total"] == result["requests"]["total"]
    assert seen["by_method"] == result["requests"]["by_method"]
    assert seen["by_status"] == result["requests"]["by_status"]


def deleted_paths(stack):
    return [record.path.rsplit("/", 1)[1] for record in stack.proxy.log if record.method == "DELETE"]


# Shared tags ---------------------------------------------------------------------------


def test_manifest_default_checks_request_counts(registry, repository):
    image = push_image(registry, repository, ["v1"])
    registry.proxy.reset()

    result = delete_manifest(registry, repository, tag="v1")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["shared_tags"] == []
    assert result["referrers"] == []
    assert_requests(result, registry, EXPECTED_REQUESTS["default_tag"][registry.mode])
    assert manifest_status(registry, repository, image.digest) == 404


def test_manifest_default_checks_by_digest_request_counts(registry, repository):
    image = push_image(registry, repository, ["v1"])
    registry.proxy.reset()

    result = delete_manifest(registry, repository, digest=image.digest)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert "shared_tags" not in result
    assert result["referrers"] == []
    assert_requests(result, registry, EXPECTED_REQUESTS["default_digest"][registry.mode])


def test_manifest_shared_tags_warn(registry, repository):
    image = push_image(registry, repository, ["v1", "latest"])
    push_image(registry, repository, ["other"], seed=7)
    registry.proxy.reset()

    result = delete_manifest(registry, repository, tag="v1", referrers="ignore")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["shared_tags"] == ["latest"]
    assert any("deletes the tag latest too" in message for message in warning_messages(result))
    # HEAD v1, tag list, HEAD latest, HEAD other, DELETE: the referrers lookup is off.
    assert_requests(result, registry, EXPECTED_REQUESTS["shared_tag"][registry.mode])
    assert tag_list(registry, repository) == ["other"]
    assert manifest_status(registry, repository, image.digest) == 404


def test_manifest_shared_tags_fail_deletes_nothing(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1", "latest", "stable"])

    result = delete_manifest(anonymous_registry, repository, tag="v1", shared_tags="fail")

    assert result["failed"] is True
    assert "the tags latest, stable in" in result["msg"]
    assert "Nothing was deleted" in result["msg"]
    assert "oci.registry.oci_tag" in result["msg"]
    assert "DELETE" not in result["requests"]["by_method"]
    assert manifest_status(anonymous_registry, repository, image.digest) == 200


def test_manifest_shared_tags_fail_allows_lone_tag(anonymous_registry, repository):
    push_image(anonymous_registry, repository, ["v1"])
    push_image(anonymous_registry, repository, ["v2"], seed=3)

    result = delete_manifest(anonymous_registry, repository, tag="v1", shared_tags="fail")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["shared_tags"] == []
    assert tag_list(anonymous_registry, repository) == ["v2"]


def test_manifest_shared_tags_check_mode_and_diff(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1", "latest"])

    result = delete_manifest(anonymous_registry, repository, check_mode=True, diff=True, tag="v1")

    assert result["changed"] is True
    assert result["shared_tags"] == ["latest"]
    assert result["diff"]["before"]["tags"] == ["latest", "v1"]
    assert result["diff"]["after"] == {"state": "absent"}
    assert "DELETE" not in result["requests"]["by_method"]
    assert manifest_status(anonymous_registry, repository, image.digest) == 200


def test_manifest_shared_tags_skip_referrers_tags(anonymous_registry, repository):
    signed = signed_image(anonymous_registry, repository)
    anonymous_registry.proxy.reset()

    result = delete_manifest(anonymous_registry, repository, check_mode=True, tag="v1", referrers="ignore")

    assert result["shared_tags"] == []
    heads = [record.path for record in anonymous_registry.proxy.log if record.method == "HEAD"]
    assert heads == ["/v2/%s/manifests/v1" % repository]
    assert referrers_tag(signed.image.digest) in tag_list(anonymous_registry, repository)


# Children of tagged indexes --------------------------------------------------------------


def multi_platform(stack, repository, media_type=None):
    """Push 1.0-amd64, 1.0-arm64 and the index 1.0 over both; return (amd64, arm64, index)."""
    options = {} if media_type is None else {"media_type": media_type}
    children = [push_image(stack, repository, ["1.0-" + architecture], architecture=architecture, seed=number,
                           **options)
                for number, architecture in enumerate(("amd64", "arm64"))]
    index_options = {} if media_type is None else {"media_type": DOCKER_MANIFEST_LIST}
    index = push_index(stack, repository, ["1.0"], children, **index_options)
    return children[0], children[1], index


def test_manifest_index_child_warn(registry, repository):
    amd64, arm64, index = multi_platform(registry, repository)
    registry.proxy.reset()

    result = delete_manifest(registry, repository, tag="1.0-amd64", referrers="ignore")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["shared_tags"] == []
    assert result["parent_indexes"] == [{"tag": "1.0", "digest": index.digest}]
    assert warning_messages(result) == [
        "Deleting tag 1.0-amd64 in %s breaks the image indexes tagged 1.0 (%s): they list the manifest %s as "
        "a child." % (repository, index.digest, amd64.digest)
    ]
    assert_requests(result, registry, EXPECTED_REQUESTS["index_child"][registry.mode])
    gets = [record.path for record in registry.proxy.log if record.method == "GET" and "/manifests/" in record.path]
    assert gets == ["/v2/%s/manifests/%s" % (repository, index.digest)]
    assert manifest_status(registry, repository, amd64.digest) == 404


def test_manifest_index_child_fail_deletes_nothing(anonymous_registry, repository):
    amd64, arm64, index = multi_platform(anonymous_registry, repository)
    anonymous_registry.proxy.reset()

    result = delete_manifest(anonymous_registry, repository, tag="1.0-amd64", shared_tags="fail", referrers="fail")

    assert result["failed"] is True
    assert "the image indexes tagged 1.0 (%s) in %s list the manifest %s of tag 1.0-amd64 as a child" % (
        index.digest, repository, amd64.digest) in result["msg"]
    assert "Nothing was deleted." in result["msg"]
    assert "DELETE" not in result["requests"]["by_method"]
    assert manifest_status(anonymous_registry, repository, amd64.digest) == 200
    assert sorted(tag_list(anonymous_registry, repository)) == ["1.0", "1.0-amd64", "1.0-arm64"]


def test_manifest_index_child_docker_list_check_mode(anonymous_registry, repository):
    amd64, arm64, index = multi_platform(anonymous_registry, repository, media_type=DOCKER_MANIFEST)

    result = delete_manifest(anonymous_registry, repository, check_mode=True, tag="1.0-arm64", referrers="ignore")

    assert result["changed"] is True
    assert result["parent_indexes"] == [{"tag": "1.0", "digest": index.digest}]
    assert "DELETE" not in result["requests"]["by_method"]
    assert manifest_status(anonymous_registry, repository, arm64.digest) == 200


def test_manifest_index_child_shared_and_indexed(anonymous_registry, repository):
    amd64 = push_image(anonymous_registry, repository, ["1.0-amd64", "amd64"], architecture="amd64", seed=0)
    arm64 = push_image(anonymous_registry, repository, ["1.0-arm64"], architecture="arm64", seed=1)
    index = push_index(anonymous_registry, repository, ["1.0", "latest"], [amd64, arm64])
    anonymous_registry.proxy.reset()

    result = delete_manifest(anonymous_registry, repository, tag="1.0-amd64", shared_tags="fail", referrers="ignore")

    assert result["failed"] is True
    assert result["msg"].startswith("the tag amd64 in %s points to the same manifest %s as tag 1.0-amd64" % (
        repository, amd64.digest))
    assert ". Also, the image indexes tagged 1.0 (%s), latest (%s) in %s list the manifest" % (
        index.digest, index.digest, repository) in result["msg"]
    # Two tags on one index: the index is read once.
    gets = [record.path for record in anonymous_registry.proxy.log
            if record.method == "GET" and "/manifests/" in record.path]
    assert gets == ["/v2/%s/manifests/%s" % (repository, index.digest)]
    assert manifest_status(anonymous_registry, repository, amd64.digest) == 200


# Referrers -----------------------------------------------------------------------------


def test_manifest_referrers_api_missing_on_distribution_28(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])
    anonymous_registry.proxy.reset()

    delete_manifest(anonymous_registry, repository, check_mode=True, digest=image.digest)

    referrer_calls = [record for record in anonymous_registry.proxy.log if "/referrers/" in record.path]
    assert [(record.method, record.status) for record in referrer_calls] == [("GET", 404)]


def test_manifest_delete_referrers(registry, repository):
    signed = signed_image(registry, repository)
    registry.proxy.reset()

    result = delete_manifest(registry, repository, digest=signed.image.digest, delete_referrers=True)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert [item["digest"] for item in result["referrers"]] == [
        signed.signature.digest, signed.sbom_signature.digest, signed.sbom.digest,
    ]
    assert [item["tag"] for item in result["referrers_indexes"]] == [
        referrers_tag(signed.sbom.digest), referrers_tag(signed.image.digest),
    ]
    assert_requests(result, registry, EXPECTED_REQUESTS["delete_referrers"][registry.mode])
    for manifest in signed.referrers + (signed.index, signed.sbom_index, signed.image):
        assert manifest_status(registry, repository, manifest.digest) == 404
    assert tag_list(registry, repository) == []


def test_manifest_delete_referrers_depth_first(anonymous_registry, repository):
    signed = signed_image(anonymous_registry, repository)
    anonymous_registry.proxy.reset()

    delete_manifest(anonymous_registry, repository, tag="v1", delete_referrers=True)

    assert deleted_paths(anonymous_registry) == [
        signed.signature.digest,
        signed.sbom_signature.digest,
        signed.sbom.digest,
        signed.sbom_index.digest,
        signed.index.digest,
        signed.image.digest,
    ]


def test_manifest_delete_referrers_check_mode_lists_all(registry, repository):
    signed = signed_image(registry, repository)
    registry.proxy.reset()

    result = delete_manifest(registry, repository, check_mode=True, diff=True, digest=signed.image.digest,
                             delete_referrers=True)

    assert result["changed"] is True
    assert sorted(item["digest"] for item in result["referrers"]) == sorted(item.digest for item in signed.referrers)
    assert {item["digest"]: item["artifact_type"] for item in result["referrers"]} == {
        signed.signature.digest: SIGNATURE_TYPE,
        signed.sbom.digest: SBOM_TYPE,
        signed.sbom_signature.digest: SIGNATURE_TYPE,
    }
    assert {item["digest"]: item["subject"] for item in result["referrers"]} == {
        signed.signature.digest: signed.image.digest,
        signed.sbom.digest: signed.image.digest,
        signed.sbom_signature.digest: signed.sbom.digest,
    }
    assert len(result["diff"]["before"]["referrers"]) == 3
    assert_requests(result, registry, EXPECTED_REQUESTS["delete_referrers_check"][registry.mode])
    for manifest in signed.referrers + (signed.index, signed.sbom_index, signed.image):
        assert manifest_status(registry, repository, manifest.digest) == 200


def test_manifest_delete_referrers_rerun_unchanged(anonymous_registry, repository):
    signed = signed_image(anonymous_registry, repository)
    delete_manifest(anonymous_registry, repository, digest=signed.image.digest, delete_referrers=True)

    result = delete_manifest(anonymous_registry, repository, digest=signed.image.digest, delete_referrers=True)

    assert result["changed"] is False
    assert "referrers" not in result


def test_manifest_referrers_warn_keeps_them(anonymous_registry, repository):
    signed = signed_image(anonymous_registry, repository)

    result = delete_manifest(anonymous_registry, repository, digest=signed.image.digest)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert sorted(item["digest"] for item in result["referrers"]) == sorted(
        [signed.signature.digest, signed.sbom.digest]
    )
    assert any("delete_referrers=true" in message for message in warning_messages(result))
    assert manifest_status(anonymous_registry, repository, signed.image.digest) == 404
    for manifest in signed.referrers + (signed.index, signed.sbom_index):
        assert manifest_status(anonymous_registry, repository, manifest.digest) == 200


def test_manifest_referrers_fail_deletes_nothing(anonymous_registry, repository):
    signed = signed_image(anonymous_registry, repository)

    result = delete_manifest(anonymous_registry, repository, tag="v1", referrers="fail")

    assert result["failed"] is True
    assert "2 manifests" in result["msg"]
    assert "Nothing was deleted" in result["msg"]
    assert "DELETE" not in result["requests"]["by_method"]
    assert manifest_status(anonymous_registry, repository, signed.image.digest) == 200


def test_manifest_referrers_foreign_entry_kept(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])
    other = push_image(anonymous_registry, repository, ["other"], seed=5)
    signature = push_referrer(anonymous_registry, repository, image, SIGNATURE_TYPE, b"signature")
    foreign = push_referrer(anonymous_registry, repository, other, SIGNATURE_TYPE, b"signature of other")
    push_referrers_index(anonymous_registry, repository, image, [signature, foreign, other],
                         [SIGNATURE_TYPE, SIGNATURE_TYPE, None])

    result = delete_manifest(anonymous_registry, repository, tag="v1", delete_referrers=True)

    assert result.get("failed") is not True, result.get("msg")
    assert [item["digest"] for item in result["referrers"]] == [signature.digest]
    assert manifest_status(anonymous_registry, repository, signature.digest) == 404
    assert manifest_status(anonymous_registry, repository, foreign.digest) == 200
    assert manifest_status(anonymous_registry, repository, other.digest) == 200


def test_manifest_delete_referrers_deletion_disabled(registry_factory, repository):
    stack = registry_factory("anonymous", delete_enabled=False)
    signed = signed_image(stack, repository)

    result = delete_manifest(stack, repository, tag="v1", delete_referrers=True)

    assert result["failed"] is True
    assert result["status"] == 405
    assert "Nothing was deleted." in result["msg"]
    for manifest in signed.referrers + (signed.index, signed.sbom_index, signed.image):
        assert manifest_status(stack, repository, manifest.digest) == 200
