"""oci_manifest against a real CNCF Distribution registry in token, basic and anonymous mode.

Every module run is a fresh process, so the request counts below are what a playbook
task costs. They are compared with what the counting proxy in front of the registry
and the token service saw.
"""

import pytest

from tests.support.images import blob_status, manifest_status, push_image, push_index, tag_list, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST
from tests.support.registry import credentials
from tests.support.runner import run_module, run_playbook

# Skips the shared-tag check and the referrers lookup: the fewest requests a delete costs.
NO_CHECKS = {"shared_tags": "ignore", "referrers": "ignore"}

# Requests per fresh module run with NO_CHECKS: (total, token service).
EXPECTED_REQUESTS = {
    "token": {"tag": (4, 1), "tag_absent": (3, 1), "digest": (4, 1), "digest_absent": (3, 1), "check_tag": (3, 1)},
    "basic": {"tag": (3, 0), "tag_absent": (2, 0), "digest": (3, 0), "digest_absent": (2, 0), "check_tag": (2, 0)},
    "anonymous": {"tag": (2, 0), "tag_absent": (1, 0), "digest": (2, 0), "digest_absent": (1, 0), "check_tag": (1, 0)},
}


def delete_manifest(stack, repository, check_mode=False, diff=False, user="admin", **reference):
    args = dict(registry=stack.address, plain_http=True, repository=repository, state="absent", **reference)
    args.update(credentials(stack, user))
    return run_module("oci_manifest", args, check_mode=check_mode, diff=diff)


def assert_requests(result, stack, expected):
    """The result's statistics equal the expected counts and what the proxy saw."""
    total, token = expected
    seen = stack.proxy.counts()
    assert result["requests"]["total"] == total, stack.proxy.log
    assert result["requests"]["token"] == token
    assert result["requests"]["retries"] == 0
    assert seen["total"] == result["requests"]["total"]
    assert seen["token"] == result["requests"]["token"]
    assert seen["by_method"] == result["requests"]["by_method"]
    assert seen["by_status"] == result["requests"]["by_status"]


def test_manifest_delete_by_tag(registry, repository):
    image = push_image(registry, repository, ["v1"])
    registry.proxy.reset()

    result = delete_manifest(registry, repository, tag="v1", **NO_CHECKS)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["digest"] == image.digest
    assert result["media_type"] == image.media_type
    assert_requests(result, registry, EXPECTED_REQUESTS[registry.mode]["tag"])
    assert registry.proxy.log[-1][:3] == ("DELETE", "/v2/%s/manifests/%s" % (repository, image.digest), 202)
    assert manifest_status(registry, repository, image.digest) == 404


def test_manifest_delete_by_tag_rerun_unchanged(registry, repository):
    push_image(registry, repository, ["v1"])
    delete_manifest(registry, repository, tag="v1")
    registry.proxy.reset()

    result = delete_manifest(registry, repository, tag="v1", **NO_CHECKS)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert "digest" not in result
    assert_requests(result, registry, EXPECTED_REQUESTS[registry.mode]["tag_absent"])


def test_manifest_delete_by_digest(registry, repository):
    image = push_image(registry, repository, ["v1"])
    registry.proxy.reset()

    result = delete_manifest(registry, repository, digest=image.digest, **NO_CHECKS)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["digest"] == image.digest
    assert_requests(result, registry, EXPECTED_REQUESTS[registry.mode]["digest"])
    assert manifest_status(registry, repository, "v1") == 404


def test_manifest_delete_by_digest_rerun_unchanged(registry, repository):
    image = push_image(registry, repository, ["v1"])
    delete_manifest(registry, repository, digest=image.digest)
    registry.proxy.reset()

    result = delete_manifest(registry, repository, digest=image.digest, **NO_CHECKS)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert_requests(result, registry, EXPECTED_REQUESTS[registry.mode]["digest_absent"])


def test_manifest_check_mode_sends_no_delete(registry, repository):
    image = push_image(registry, repository, ["v1"])
    registry.proxy.reset()

    result = delete_manifest(registry, repository, check_mode=True, tag="v1", **NO_CHECKS)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["digest"] == image.digest
    assert_requests(result, registry, EXPECTED_REQUESTS[registry.mode]["check_tag"])
    assert "DELETE" not in result["requests"]["by_method"]
    assert [entry for entry in registry.proxy.log if entry[0] == "DELETE"] == []
    assert manifest_status(registry, repository, "v1") == 200


def test_manifest_check_mode_matches_real_run(anonymous_registry, repository):
    push_image(anonymous_registry, repository, ["v1"])

    planned = delete_manifest(anonymous_registry, repository, check_mode=True, tag="v1")
    applied = delete_manifest(anonymous_registry, repository, tag="v1")

    assert planned["changed"] == applied["changed"]
    assert planned["digest"] == applied["digest"]


def test_manifest_diff_mode(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])

    result = delete_manifest(anonymous_registry, repository, diff=True, tag="v1")

    assert result["diff"]["before"] == {
        "state": "present", "digest": image.digest, "media_type": image.media_type, "tags": ["v1"],
    }
    assert result["diff"]["after"] == {"state": "absent"}


def test_manifest_delete_by_tag_removes_other_tags(anonymous_registry, repository):
    push_image(anonymous_registry, repository, ["v1", "latest"])

    result = delete_manifest(anonymous_registry, repository, tag="v1")

    assert result["changed"] is True
    assert manifest_status(anonymous_registry, repository, "latest") == 404


def test_manifest_pull_only_user_gets_permission_error(token_registry, repository):
    image = push_image(token_registry, repository, ["v1"])
    token_registry.proxy.reset()

    result = delete_manifest(token_registry, repository, user="reader", tag="v1", **NO_CHECKS)

    assert result["failed"] is True
    assert repository in result["msg"]
    assert "delete" in result["msg"]
    assert "'reader'" in result["msg"]
    assert result["requests"]["total"] == 4
    assert result["requests"]["token"] == 1
    assert manifest_status(token_registry, repository, image.digest) == 200


@pytest.mark.parametrize("index_type", ["oci", "docker"])
def test_manifest_delete_index_keeps_children(anonymous_registry, repository, index_type):
    image_type = DOCKER_MANIFEST if index_type == "docker" else None
    extra = {"media_type": image_type} if image_type else {}
    amd64 = push_image(anonymous_registry, repository, [], architecture="amd64", seed=1, **extra)
    arm64 = push_image(anonymous_registry, repository, [], architecture="arm64", seed=2, **extra)
    index_extra = {"media_type": DOCKER_MANIFEST_LIST} if index_type == "docker" else {}
    index = push_index(anonymous_registry, repository, ["multi"], [amd64, arm64], **index_extra)

    result = delete_manifest(anonymous_registry, repository, tag="multi")

    assert result["changed"] is True
    assert result["digest"] == index.digest
    assert result["media_type"] == index.media_type
    assert manifest_status(anonymous_registry, repository, index.digest) == 404
    assert manifest_status(anonymous_registry, repository, amd64.digest) == 200
    assert manifest_status(anonymous_registry, repository, arm64.digest) == 200


def test_manifest_blob_digest_is_rejected(registry, repository):
    image = push_image(registry, repository, ["v1"])

    result = delete_manifest(registry, repository, digest=image.config_digest)

    assert result["failed"] is True
    assert image.config_digest in result["msg"]
    assert "nothing was deleted" in result["msg"].lower()
    assert "DELETE" not in result["requests"]["by_method"]
    assert blob_status(registry, repository, image.config_digest) == 200
    assert manifest_status(registry, repository, "v1") == 200


@pytest.mark.parametrize(
    "reference, expected",
    [
        ({"tag": "-bad"}, "tag '-bad' is invalid"),
        ({"digest": "sha256:abc"}, "digest 'sha256:abc' is invalid"),
        ({"digest": "md5:" + "a" * 32}, "unsupported algorithm 'md5'"),
    ],
    ids=["tag", "digest-length", "digest-algorithm"],
)
def test_manifest_invalid_reference_sends_nothing(anonymous_registry, repository, reference, expected):
    anonymous_registry.proxy.reset()

    result = delete_manifest(anonymous_registry, repository, **reference)

    assert result["failed"] is True
    assert expected in result["msg"]
    assert result["requests"]["total"] == 0
    assert anonymous_registry.proxy.counts()["total"] == 0


def test_manifest_invalid_repository_sends_nothing(anonymous_registry):
    result = delete_manifest(anonymous_registry, "Team/App", tag="v1")

    assert result["failed"] is True
    assert "repository 'Team/App' is invalid" in result["msg"]
    assert result["requests"]["total"] == 0


def test_manifest_unreachable_registry(repository):
    result = run_module("oci_manifest", dict(registry="127.0.0.1:1", plain_http=True, repository=repository,
                                             tag="v1", state="absent"))

    assert result["failed"] is True
    assert "cannot connect to http://127.0.0.1:1" in result["msg"]
    assert "connection refused" in result["msg"]


def test_manifest_wrong_password(token_registry, repository):
    result = run_module("oci_manifest", dict(registry=token_registry.address, plain_http=True, repository=repository,
                                             tag="v1", state="absent", username="admin", password="wrong-pw"))

    assert result["failed"] is True
    assert "rejected the credentials of user 'admin'" in result["msg"]
    assert "wrong-pw" not in str(result)


UNQUOTED_TAGS_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/oci.registry.registry:
      registry: "{{ registry }}"
      plain_http: true
  tasks:
    - name: Delete tag 1.10, written without quotes
      oci.registry.oci_manifest:
        repository: "{{ repository }}"
        tag: 1.10
        state: absent
      ignore_errors: true

    - name: Delete tag 010, written without quotes
      oci.registry.oci_manifest:
        repository: "{{ repository }}"
        tag: 010
        state: absent
      ignore_errors: true
"""


def test_manifest_unquoted_yaml_tags_rejected(anonymous_registry, repository, tmp_path):
    images = {tag: push_image(anonymous_registry, repository, [tag], seed=seed)
              for seed, tag in enumerate(["1.1", "1.10", "8", "010"])}
    playbook = tmp_path / "unquoted.yml"
    playbook.write_text(UNQUOTED_TAGS_PLAYBOOK)
    anonymous_registry.proxy.reset()

    run = run_playbook(playbook, extravars={"registry": anonymous_registry.address, "repository": repository})

    assert run["rc"] == 0, run["stderr"]
    assert [task["status"] for task in run["tasks"]] == ["ignored", "ignored"]
    assert run["tasks"][0]["result"]["msg"].startswith("tag is the number 1.1, not a string.")
    assert run["tasks"][1]["result"]["msg"].startswith("tag is the number 8, not a string.")
    assert anonymous_registry.proxy.log == []
    assert sorted(tag_list(anonymous_registry, repository)) == ["010", "1.1", "1.10", "8"]
    for image in images.values():
        assert manifest_status(anonymous_registry, repository, image.digest) == 200
