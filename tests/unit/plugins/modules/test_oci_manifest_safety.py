"""oci_manifest and oci_cleanup delete nothing when the registry's responses cannot be trusted.

The modules run as subprocesses against scripted fake registries (listings that name
invalid digests, tag lists without the tag, web pages instead of manifests) and
against ``MemoryRegistry`` for a tag whose manifest is a child of a tagged index.
"""

import hashlib

from conftest import warning_messages
from fakeregistry import Reply, json_reply, manifest_reply, wire_stats
from memoryregistry import MemoryRegistry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
VICTIM = "sha256:" + "ab" * 32
TAG_PATH = "/v2/team/app/manifests/v1"
DIGEST_PATH = "/v2/team/app/manifests/" + DIGEST
TAGS_PATH = "/v2/team/app/tags/list"
REFERRERS_PATH = "/v2/team/app/referrers/" + DIGEST
HTML = b"<html><body>Welcome</body></html>"
REPOSITORY = "team/app"


def manifest_args(server, **overrides):
    args = dict(registry=server.host, plain_http=True, repository=REPOSITORY, tag="v1", state="absent",
                retries=0, timeout=5)
    args.update(overrides)
    return args


# Digests from the referrers API ----------------------------------------------------------

def test_manifest_referrers_api_invalid_digest_deletes_nothing(registry, module_runner):
    listing = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": "../../victim/manifests/" + VICTIM, "size": 1},
        {"mediaType": OCI_MANIFEST, "digest": "latest", "size": 1},
    ]}
    registry.script("HEAD", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST, DIGEST))
    registry.script("GET", TAGS_PATH, json_reply({"name": REPOSITORY, "tags": ["v1"]}))
    registry.script("GET", REFERRERS_PATH, json_reply(listing, headers=[("Content-Type", OCI_INDEX)]))
    registry.script("DELETE", DIGEST_PATH, Reply(202))

    result = module_runner.run("oci_manifest", manifest_args(registry, delete_referrers=True))

    # The client or the referrers lookup may reject the listing first; either way nothing is deleted.
    assert result["failed"] is True
    assert "valid digest" in result["msg"]
    assert registry.seen("DELETE") == []
    assert result["requests"] == wire_stats(registry)


# The tag list -----------------------------------------------------------------------------

def test_manifest_tag_missing_from_list_deletes_nothing(registry, module_runner):
    registry.script("HEAD", TAG_PATH, manifest_reply(MANIFEST, OCI_MANIFEST, DIGEST))
    registry.script("GET", TAGS_PATH, json_reply({"name": REPOSITORY, "tags": ["other"]}))
    registry.script("DELETE", DIGEST_PATH, Reply(202))

    result = module_runner.run("oci_manifest", manifest_args(registry, referrers="ignore"))

    assert result["failed"] is True
    assert result["msg"].startswith("the tag list of team/app that the registry returned does not contain tag v1")
    assert registry.seen("DELETE") == []
    assert registry.seen("HEAD", "/v2/team/app/manifests/other") == []


# Responses that are not manifests ---------------------------------------------------------

def test_manifest_tag_html_answer_deletes_nothing(registry, module_runner):
    page = Reply(200, [("Content-Type", "text/html")], HTML)
    registry.script("HEAD", TAG_PATH, page)
    registry.script("GET", TAG_PATH, page)
    registry.script("DELETE", "/v2/team/app/manifests/sha256:" + hashlib.sha256(HTML).hexdigest(), Reply(202))

    result = module_runner.run("oci_manifest", manifest_args(registry, shared_tags="ignore", referrers="ignore"))

    assert result["failed"] is True
    assert result["msg"].startswith(
        "tag v1 in team/app does not name a manifest: the registry reports the media type 'text/html'. "
        "Nothing was deleted."
    )
    assert registry.seen("DELETE") == []
    assert result["requests"]["by_method"] == {"GET": 1, "HEAD": 1}


def test_manifest_tag_head_without_content_type_reads_body(registry, module_runner):
    registry.script("HEAD", TAG_PATH, Reply(200, [("Docker-Content-Digest", DIGEST)]))
    registry.script("GET", DIGEST_PATH, Reply(200, [("Docker-Content-Digest", DIGEST)], MANIFEST))
    registry.script("DELETE", DIGEST_PATH, Reply(202))

    result = module_runner.run("oci_manifest", manifest_args(registry, shared_tags="ignore", referrers="ignore"))

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["media_type"] == OCI_MANIFEST
    assert result["requests"]["by_method"] == {"DELETE": 1, "GET": 1, "HEAD": 1}


def test_manifest_tag_without_any_media_type_deletes_nothing(registry, module_runner):
    body = b'{"schemaVersion": 2, "layers": []}'
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    registry.script("HEAD", TAG_PATH, Reply(200, [("Docker-Content-Digest", digest)]))
    registry.script("GET", "/v2/team/app/manifests/" + digest, Reply(200, [("Docker-Content-Digest", digest)], body))

    result = module_runner.run("oci_manifest", manifest_args(registry, shared_tags="ignore", referrers="ignore"))

    assert result["failed"] is True
    assert "the registry reports the media type None" in result["msg"]
    assert registry.seen("DELETE") == []


def test_cleanup_html_answer_deletes_nothing(registry, module_runner):
    registry.script("GET", TAGS_PATH, json_reply({"name": REPOSITORY, "tags": ["old", "older"]}))
    registry.script("HEAD", "/v2/team/app/manifests/old",
                    Reply(200, [("Content-Type", "text/html"), ("Docker-Content-Digest", VICTIM)], HTML))
    registry.script("HEAD", "/v2/team/app/manifests/older", manifest_reply(MANIFEST, OCI_MANIFEST, DIGEST))
    registry.script("DELETE", "/v2/team/app/manifests/" + VICTIM, Reply(202))
    registry.script("DELETE", DIGEST_PATH, Reply(202))
    args = dict(registry=registry.host, plain_http=True, repositories=[REPOSITORY], tags=["old", "older"],
                retries=0, timeout=5)

    result = module_runner.run("oci_cleanup", args)

    assert result["failed"] is True
    assert [entry["tag"] for entry in result["failures"]] == ["old"]
    assert result["failures"][0]["reason"] == (
        "not deleted: the registry reports the media type 'text/html' for it, which is not a manifest media type"
    )
    assert result["deleted"] == []
    assert [entry["tag"] for entry in result["skipped"]] == ["older"]
    assert registry.seen("DELETE") == []


# Children of tagged indexes ---------------------------------------------------------------

def seed_multi_platform(registry):
    """Push 1.0-amd64 and 1.0-arm64, and the index 1.0 over both; return the three digests."""
    digests = []
    for architecture in ("amd64", "arm64"):
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
                    "annotations": {"architecture": architecture}}
        digests.append(registry.add_manifest(REPOSITORY, document, tags=["1.0-" + architecture])[0])
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": digest, "size": 1} for digest in digests
    ]}
    digests.append(registry.add_manifest(REPOSITORY, index, tags=["1.0"])[0])
    return digests


def run_manifest(module_runner, registry, **options):
    args = dict(registry=registry.address, plain_http=True, repository=REPOSITORY, state="absent",
                referrers="ignore", **options)
    return module_runner.run("oci_manifest", args)


def test_manifest_index_child_fail_deletes_nothing(module_runner):
    with MemoryRegistry() as registry:
        amd64, arm64, index = seed_multi_platform(registry)
        registry.reset_log()

        result = run_manifest(module_runner, registry, tag="1.0-amd64", shared_tags="fail")

        assert result["failed"] is True
        assert result["msg"] == (
            "the image indexes tagged 1.0 (%s) in team/app list the manifest %s of tag 1.0-amd64 as a child, so "
            "deleting it would break them. Nothing was deleted. Delete or update those indexes first. To delete "
            "the manifest anyway, set shared_tags=warn." % (index, amd64)
        )
        assert sorted(registry.repository(REPOSITORY).tags) == ["1.0", "1.0-amd64", "1.0-arm64"]
        # HEAD 1.0-amd64, tag list, HEAD 1.0 and 1.0-arm64, GET of the index.
        assert registry.counts()["by_method"] == {"GET": 2, "HEAD": 3}


def test_manifest_index_child_warn_deletes(module_runner):
    with MemoryRegistry() as registry:
        amd64, arm64, index = seed_multi_platform(registry)
        registry.reset_log()

        result = run_manifest(module_runner, registry, tag="1.0-amd64")

        assert result.get("failed") is not True, result.get("msg")
        assert result["changed"] is True
        assert result["shared_tags"] == []
        assert result["parent_indexes"] == [{"tag": "1.0", "digest": index}]
        assert warning_messages(result) == [
            "Deleting tag 1.0-amd64 in team/app breaks the image indexes tagged 1.0 (%s): they list the "
            "manifest %s as a child." % (index, amd64)
        ]
        assert amd64 not in registry.repository(REPOSITORY).manifests
        assert registry.counts()["by_method"] == {"DELETE": 1, "GET": 2, "HEAD": 3}


def test_manifest_index_itself_no_parent(module_runner):
    with MemoryRegistry() as registry:
        index = seed_multi_platform(registry)[2]
        registry.reset_log()

        result = run_manifest(module_runner, registry, tag="1.0", shared_tags="fail")

        assert result.get("failed") is not True, result.get("msg")
        assert result["parent_indexes"] == []
        assert index not in registry.repository(REPOSITORY).manifests
