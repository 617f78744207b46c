"""oci_tag against a real CNCF Distribution 2.8.2 registry in token, basic and anonymous mode.

Distribution 2.8 returns 400 DIGEST_INVALID to DELETE on a tag, so removing a tag
there takes the placeholder path. tests/unit/plugins/modules/test_oci_tag_untag.py covers
registries that delete single tags.
"""

import pytest

from tests.support.images import (
    DOCKER_MANIFEST,
    MANIFEST_MEDIA_TYPES,
    AdminClient,
    blob_status,
    manifest_status,
    push_image,
    tag_list,
)
from tests.support.registry import credentials
from tests.support.runner import run_module

EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

# Requests per fresh module run: (total, token service).
EXPECTED_REQUESTS = {
    # HEAD tag (404), GET the manifest by digest, PUT it under the tag.
    "create": {"token": (5, 1), "basic": (4, 0), "anonymous": (3, 0)},
    # HEAD tag: already there.
    "unchanged": {"token": (3, 1), "basic": (2, 0), "anonymous": (1, 0)},
    # HEAD tag, DELETE tag (400), DELETE random digest (404), HEAD empty blob (404),
    # POST + PUT the empty blob, PUT placeholder under the tag, DELETE placeholder.
    "placeholder": {"token": (10, 1), "basic": (9, 0), "anonymous": (8, 0)},
    # HEAD tag, DELETE tag (400): without untag_fallback the module stops there.
    "refused": {"token": (4, 1), "basic": (3, 0), "anonymous": (2, 0)},
}


def run_tag(stack, repository, check_mode=False, diff=False, user="admin", **options):
    args = dict(registry=stack.address, plain_http=True, repository=repository, **options)
    args.update(credentials(stack, user))
    return run_module("oci_tag", args, check_mode=check_mode, diff=diff)


def assert_requests(result, stack, expected):
    total, token = expected
    seen = stack.proxy.counts()
    assert result["requests"]["total"] == total, stack.proxy.log
    assert result["requests"]["token"] == token
    assert seen["total"] == result["requests"]["total"]
    assert seen["by_method"] == result["requests"]["by_method"]
    assert seen["by_status"] == result["requests"]["by_status"]


def resolved_digest(stack, repository, tag):
    """Return the digest ``tag`` points to, read with a HEAD of our own, or None."""
    with AdminClient(stack, repository) as client:
        response = client.request("HEAD", "/manifests/" + tag, headers={"Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
    return response.headers.get("Docker-Content-Digest") if response.status_code == 200 else None


# state=present -------------------------------------------------------------------------


def test_tag_create_by_digest(registry, repository):
    image = push_image(registry, repository, ["v1"])
    registry.proxy.reset()

    result = run_tag(registry, repository, tag="stable", digest=image.digest)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["digest"] == image.digest
    assert result["previous_digest"] is None
    assert_requests(result, registry, EXPECTED_REQUESTS["create"][registry.mode])
    assert resolved_digest(registry, repository, "stable") == image.digest
    assert sorted(tag_list(registry, repository)) == ["stable", "v1"]


def test_tag_create_rerun_unchanged(registry, repository):
    image = push_image(registry, repository, ["v1"])
    run_tag(registry, repository, tag="stable", digest=image.digest)
    registry.proxy.reset()

    result = run_tag(registry, repository, tag="stable", digest=image.digest)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert result["previous_digest"] == image.digest
    assert_requests(result, registry, EXPECTED_REQUESTS["unchanged"][registry.mode])


def test_tag_from_source_tag(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1.2.0"])
    anonymous_registry.proxy.reset()

    result = run_tag(anonymous_registry, repository, tag="latest", source_tag="v1.2.0")

    assert result["changed"] is True
    assert result["digest"] == image.digest
    assert [(record.method, record.status) for record in anonymous_registry.proxy.log] == [
        ("GET", 200), ("HEAD", 404), ("PUT", 201),
    ]
    assert resolved_digest(anonymous_registry, repository, "latest") == image.digest


def test_tag_move_keeps_media_type(anonymous_registry, repository):
    old = push_image(anonymous_registry, repository, ["latest"], seed=1)
    new = push_image(anonymous_registry, repository, ["v2"], seed=2, media_type=DOCKER_MANIFEST)

    result = run_tag(anonymous_registry, repository, diff=True, tag="latest", source_tag="v2")

    assert result["changed"] is True
    assert result["previous_digest"] == old.digest
    assert result["digest"] == new.digest
    assert result["media_type"] == DOCKER_MANIFEST
    assert result["diff"]["before"] == {"state": "present", "digest": old.digest}
    assert result["diff"]["after"] == {"state": "present", "digest": new.digest}
    assert resolved_digest(anonymous_registry, repository, "latest") == new.digest
    assert manifest_status(anonymous_registry, repository, old.digest) == 200


def test_tag_present_check_mode_sends_no_put(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])
    anonymous_registry.proxy.reset()

    result = run_tag(anonymous_registry, repository, check_mode=True, tag="stable", digest=image.digest)

    assert result["changed"] is True
    assert result["digest"] == image.digest
    assert result["requests"]["by_method"] == {"GET": 1, "HEAD": 1}
    assert resolved_digest(anonymous_registry, repository, "stable") is None


def test_tag_present_unknown_digest_fails(anonymous_registry, repository):
    push_image(anonymous_registry, repository, ["v1"])
    missing = "sha256:" + "0" * 64

    result = run_tag(anonymous_registry, repository, tag="stable", digest=missing)

    assert result["failed"] is True
    assert "manifest %s not found" % missing in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert "PUT" not in result["requests"]["by_method"]


def test_tag_present_unknown_source_tag_fails(anonymous_registry, repository):
    push_image(anonymous_registry, repository, ["v1"])

    result = run_tag(anonymous_registry, repository, tag="stable", source_tag="nope")

    assert result["failed"] is True
    assert "source tag nope not found" in result["msg"]


# state=absent --------------------------------------------------------------------------


def test_tag_absent_placeholder_keeps_manifest(registry, repository):
    image = push_image(registry, repository, ["v1", "v2"])
    registry.proxy.reset()

    result = run_tag(registry, repository, tag="v1", state="absent", untag_fallback="placeholder")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["untag_method"] == "placeholder"
    assert result["digest"] == image.digest
    assert_requests(result, registry, EXPECTED_REQUESTS["placeholder"][registry.mode])
    assert tag_list(registry, repository) == ["v2"]
    assert manifest_status(registry, repository, "v1") == 404
    assert resolved_digest(registry, repository, "v2") == image.digest
    assert manifest_status(registry, repository, image.digest) == 200
    assert manifest_status(registry, repository, result["placeholder_digest"]) == 404
    assert blob_status(registry, repository, image.config_digest) == 200


def test_tag_absent_placeholder_rerun_unchanged(registry, repository):
    push_image(registry, repository, ["v1", "v2"])
    run_tag(registry, repository, tag="v1", state="absent", untag_fallback="placeholder")
    registry.proxy.reset()

    result = run_tag(registry, repository, tag="v1", state="absent", untag_fallback="placeholder")

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert "digest" not in result
    assert_requests(result, registry, EXPECTED_REQUESTS["unchanged"][registry.mode])


def test_tag_absent_placeholder_reuses_empty_blob(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1", "v2", "v3"])
    run_tag(anonymous_registry, repository, tag="v1", state="absent", untag_fallback="placeholder")
    anonymous_registry.proxy.reset()

    result = run_tag(anonymous_registry, repository, tag="v2", state="absent", untag_fallback="placeholder")

    assert result["changed"] is True
    assert [(record.method, record.status) for record in anonymous_registry.proxy.log] == [
        ("HEAD", 200), ("DELETE", 400), ("DELETE", 404), ("HEAD", 200), ("PUT", 201), ("DELETE", 202),
    ]
    assert blob_status(anonymous_registry, repository, EMPTY_DIGEST) == 200
    assert tag_list(anonymous_registry, repository) == ["v3"]
    assert resolved_digest(anonymous_registry, repository, "v3") == image.digest


def test_tag_absent_last_tag_keeps_manifest(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["only"])

    result = run_tag(anonymous_registry, repository, tag="only", state="absent", untag_fallback="placeholder")

    assert result["changed"] is True
    assert tag_list(anonymous_registry, repository) == []
    assert manifest_status(anonymous_registry, repository, image.digest) == 200


def test_tag_absent_without_fallback_fails(registry, repository):
    image = push_image(registry, repository, ["v1", "v2"])
    registry.proxy.reset()

    result = run_tag(registry, repository, tag="v1", state="absent")

    assert result["failed"] is True
    assert "HTTP 400 DIGEST_INVALID" in result["msg"]
    assert "Nothing was changed" in result["msg"]
    assert "untag_fallback=placeholder" in result["msg"]
    assert result["status"] == 400
    assert result["error_codes"] == ["DIGEST_INVALID"]
    assert_requests(result, registry, EXPECTED_REQUESTS["refused"][registry.mode])
    assert resolved_digest(registry, repository, "v1") == image.digest


def test_tag_absent_check_mode_sends_no_delete(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])
    anonymous_registry.proxy.reset()

    result = run_tag(anonymous_registry, repository, check_mode=True, diff=True, tag="v1", state="absent",
                     untag_fallback="placeholder")

    assert result["changed"] is True
    assert result["digest"] == image.digest
    assert result["diff"]["before"] == {"state": "present", "digest": image.digest}
    assert result["diff"]["after"] == {"state": "absent"}
    assert result["requests"]["by_method"] == {"HEAD": 1}
    assert resolved_digest(anonymous_registry, repository, "v1") == image.digest


def test_tag_absent_deletion_disabled_changes_nothing(registry_factory, repository):
    stack = registry_factory("anonymous", delete_enabled=False)
    image = push_image(stack, repository, ["v1", "v2"])
    stack.proxy.reset()

    result = run_tag(stack, repository, tag="v1", state="absent", untag_fallback="placeholder")

    assert result["failed"] is True
    assert "does not delete manifests" in result["msg"]
    assert "Nothing was changed: tag v1 still points to %s" % image.digest in result["msg"]
    assert [(record.method, record.status) for record in stack.proxy.log] == [
        ("HEAD", 200), ("DELETE", 405), ("DELETE", 405),
    ]
    assert resolved_digest(stack, repository, "v1") == image.digest


def test_tag_absent_pull_only_user_changes_nothing(token_registry, repository):
    image = push_image(token_registry, repository, ["v1"])

    result = run_tag(token_registry, repository, user="reader", tag="v1", state="absent",
                     untag_fallback="placeholder")

    assert result["failed"] is True
    assert "'reader'" in result["msg"]
    assert resolved_digest(token_registry, repository, "v1") == image.digest


@pytest.mark.parametrize("options", [{"digest": "sha256:" + "a" * 64}, {"source_tag": "v2"}], ids=["digest", "source_tag"])
def test_tag_absent_rejects_target_options(anonymous_registry, repository, options):
    anonymous_registry.proxy.reset()

    result = run_tag(anonymous_registry, repository, tag="v1", state="absent", **options)

    assert result["failed"] is True
    assert "apply only to state=present" in result["msg"]
    assert result["requests"]["total"] == 0


def test_tag_present_requires_target(anonymous_registry, repository):
    result = run_tag(anonymous_registry, repository, tag="v1")

    assert result["failed"] is True
    assert "digest" in result["msg"]
    assert "source_tag" in result["msg"]
