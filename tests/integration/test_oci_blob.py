"""oci_blob against a real CNCF Distribution registry in token, basic and anonymous mode."""

from tests.support.images import blob_status, push_image
from tests.support.registry import credentials
from tests.support.runner import run_module

# Requests per fresh module run: (total, token service). A delete and a check-mode HEAD
# cost the same: one request, plus the challenge and token round trip where auth needs it.
EXPECTED_REQUESTS = {"token": (3, 1), "basic": (2, 0), "anonymous": (1, 0)}


def delete_blob(stack, repository, digest, check_mode=False, diff=False):
    args = dict(registry=stack.address, plain_http=True, repository=repository, digest=digest, state="absent")
    args.update(credentials(stack))
    return run_module("oci_blob", args, check_mode=check_mode, diff=diff)


def assert_requests(result, stack):
    total, token = EXPECTED_REQUESTS[stack.mode]
    seen = stack.proxy.counts()
    assert result["requests"]["total"] == total, stack.proxy.log
    assert result["requests"]["token"] == token
    assert seen["total"] == result["requests"]["total"]
    assert seen["token"] == result["requests"]["token"]
    assert seen["by_method"] == result["requests"]["by_method"]
    assert seen["by_status"] == result["requests"]["by_status"]


def test_blob_delete(registry, repository):
    image = push_image(registry, repository, ["v1"])
    layer = image.layer_digests[0]
    registry.proxy.reset()

    result = delete_blob(registry, repository, layer)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["digest"] == layer
    assert_requests(result, registry)
    assert blob_status(registry, repository, layer) == 404


def test_blob_delete_rerun_unchanged(registry, repository):
    image = push_image(registry, repository, ["v1"])
    layer = image.layer_digests[0]
    delete_blob(registry, repository, layer)
    registry.proxy.reset()

    result = delete_blob(registry, repository, layer)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert_requests(result, registry)


def test_blob_check_mode_sends_no_delete(registry, repository):
    image = push_image(registry, repository, ["v1"])
    layer = image.layer_digests[0]
    registry.proxy.reset()

    result = delete_blob(registry, repository, layer, check_mode=True)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert_requests(result, registry)
    assert "DELETE" not in result["requests"]["by_method"]
    assert blob_status(registry, repository, layer) == 200


def test_blob_check_mode_absent_unchanged(anonymous_registry, repository):
    missing = "sha256:" + "0" * 64

    result = delete_blob(anonymous_registry, repository, missing, check_mode=True)

    assert result["changed"] is False


def test_blob_diff_mode(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["v1"])

    result = delete_blob(anonymous_registry, repository, image.config_digest, diff=True)

    assert result["diff"]["before"] == {"state": "present"}
    assert result["diff"]["after"] == {"state": "absent"}
