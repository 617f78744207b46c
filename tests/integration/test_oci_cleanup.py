"""oci_cleanup against a real CNCF Distribution registry.

Images are pushed with ``created`` times in the past, so keep_last and older_than see
real image configs. Request counts are checked against the counting proxy.
"""

import datetime
import http.client

import pytest

from tests.support.httpserver import LoopbackServer, QuietHandler
from tests.support.images import manifest_status, push_image, push_index, tag_list
from tests.support.registry import credentials
from tests.support.runner import run_module

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

# Requests a fresh module run spends before its first tag request: the challenge
# (401) and the token fetch in token mode, the challenge alone in basic mode.
AUTH_OVERHEAD = {"token": 2, "basic": 1, "anonymous": 0}


def days_ago(days):
    return NOW - datetime.timedelta(days=days)


def cleanup(stack, repositories, check_mode=False, diff=False, user="admin", **options):
    args = dict(registry=stack.address, plain_http=True, repositories=repositories, **options)
    args.update(credentials(stack, user))
    return run_module("oci_cleanup", args, check_mode=check_mode, diff=diff)


def push_aged(stack, repository, ages):
    """Push one image per ``{tag: age in days}`` (distinct digests) and return ``{tag: Image}``."""
    return {
        tag: push_image(stack, repository, [tag], seed=index, created=days_ago(age))
        for index, (tag, age) in enumerate(sorted(ages.items()))
    }


def tags(entries):
    return sorted(entry["tag"] for entry in entries)


def reasons(entries):
    return dict((entry["tag"], entry["reason"]) for entry in entries)


def proxy_methods(stack):
    return [record.method for record in stack.proxy.log]


def test_cleanup_keep_last(registry, repository):
    images = push_aged(registry, repository, {"v1": 40, "v2": 30, "v3": 20, "v4": 10, "v5": 1})
    registry.proxy.reset()

    result = cleanup(registry, [repository], keep_last=2)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert tags(result["deleted"]) == ["v1", "v2", "v3"]
    assert tags(result["kept"]) == ["v4", "v5"]
    assert result["skipped"] == []
    assert result["failures"] == []
    assert reasons(result["deleted"])["v1"] == "not one of the 2 newest (rank 5)"
    assert reasons(result["kept"])["v5"] == "one of the 2 newest (rank 1)"
    assert dict((entry["tag"], entry["digest"]) for entry in result["deleted"])["v3"] == images["v3"].digest
    # 1 tag list, 5 manifests and 5 configs read, 3 deletes.
    assert result["requests"]["total"] == AUTH_OVERHEAD[registry.mode] + 1 + 5 + 5 + 3
    assert result["requests"]["by_method"]["DELETE"] == 3
    assert registry.proxy.counts()["total"] == result["requests"]["total"]
    assert sorted(tag_list(registry, repository)) == ["v4", "v5"]


def test_cleanup_older_than(registry, repository):
    push_aged(registry, repository, {"ancient": 90, "old": 40, "recent": 20, "new": 1})
    registry.proxy.reset()

    result = cleanup(registry, [repository], older_than="30d")

    assert result.get("failed") is not True, result.get("msg")
    assert tags(result["deleted"]) == ["ancient", "old"]
    assert tags(result["kept"]) == ["new", "recent"]
    assert reasons(result["deleted"])["old"] == "created %s, more than 30d ago" % days_ago(40).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert sorted(tag_list(registry, repository)) == ["new", "recent"]


@pytest.mark.parametrize("older_than, expected", [("2w", ["a40", "a90"]), ("1w2d", ["a10", "a40", "a90"])])
def test_cleanup_older_than_units(anonymous_registry, repository, older_than, expected):
    push_aged(anonymous_registry, repository, {"a90": 90, "a40": 40, "a10": 10, "a1": 1})

    result = cleanup(anonymous_registry, [repository], older_than=older_than)

    assert tags(result["deleted"]) == expected


def test_cleanup_keep_last_and_older_than(anonymous_registry, repository):
    push_aged(anonymous_registry, repository, {"a": 100, "b": 60, "c": 45, "d": 20, "e": 2})

    result = cleanup(anonymous_registry, [repository], keep_last=3, older_than="30d")

    # c, d and e are the three newest; a and b are outside them and older than 30 days.
    assert tags(result["deleted"]) == ["a", "b"]
    assert tags(result["kept"]) == ["c", "d", "e"]


def test_cleanup_include_exclude_full_match(anonymous_registry, repository):
    for index, tag in enumerate(["v1", "v10", "dev-1", "dev-2", "dev-keep", "release-dev-1"]):
        push_image(anonymous_registry, repository, [tag], seed=index)

    result = cleanup(anonymous_registry, [repository], include=["dev-.*", "v1"], exclude=["dev-keep"])

    assert result.get("failed") is not True, result.get("msg")
    assert tags(result["deleted"]) == ["dev-1", "dev-2", "v1"]
    assert reasons(result["kept"]) == {
        "dev-keep": "matches an exclude pattern",
        "release-dev-1": "matches no include pattern",
        "v10": "matches no include pattern",
    }
    assert sorted(tag_list(anonymous_registry, repository)) == ["dev-keep", "release-dev-1", "v10"]


def test_cleanup_include_without_time_reads_no_manifest_body(anonymous_registry, repository):
    for index, tag in enumerate(["pr-1", "pr-2", "main"]):
        push_image(anonymous_registry, repository, [tag], seed=index)
    anonymous_registry.proxy.reset()

    result = cleanup(anonymous_registry, [repository], include=["pr-.*"])

    # 1 tag list, a HEAD per tag in scope and per kept tag, a DELETE per digest.
    assert result["requests"]["by_method"] == {"DELETE": 2, "GET": 1, "HEAD": 3}
    assert result["requests"]["total"] == 6


def test_cleanup_protect(anonymous_registry, repository):
    push_aged(anonymous_registry, repository, {"latest": 50, "v1": 40, "v2": 1})

    result = cleanup(anonymous_registry, [repository], keep_last=1, protect=["latest"])

    assert tags(result["deleted"]) == ["v1"]
    assert reasons(result["kept"]) == {"latest": "protected", "v2": "one of the 1 newest (rank 1)"}
    assert sorted(tag_list(anonymous_registry, repository)) == ["latest", "v2"]


def test_cleanup_shared_digest_of_protected_tag_is_skipped(registry, repository):
    shared = push_image(registry, repository, ["old-build", "stable"], seed=1, created=days_ago(60))
    push_image(registry, repository, ["other-old"], seed=2, created=days_ago(60))
    registry.proxy.reset()

    result = cleanup(registry, [repository], older_than="30d", protect=["stable"])

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert tags(result["deleted"]) == ["other-old"]
    assert tags(result["skipped"]) == ["old-build"]
    assert result["skipped"][0]["digest"] == shared.digest
    assert result["skipped"][0]["reason"] == (
        "not deleted: its digest is also tagged stable, which is kept; deleting the manifest would delete "
        "those tags too")
    assert manifest_status(registry, repository, "stable") == 200
    assert result["requests"]["by_method"]["DELETE"] == 1


def test_cleanup_shared_digest_of_kept_tag_is_skipped(anonymous_registry, repository):
    push_image(anonymous_registry, repository, ["v1", "latest"], seed=1, created=days_ago(1))
    push_image(anonymous_registry, repository, ["v0"], seed=2, created=days_ago(10))

    result = cleanup(anonymous_registry, [repository], keep_last=1)

    # v1 and latest share a digest: v1 ranks first by name, latest is outside keep_last.
    assert tags(result["kept"]) == ["v1"]
    assert tags(result["deleted"]) == ["v0"]
    assert tags(result["skipped"]) == ["latest"]
    assert manifest_status(anonymous_registry, repository, "latest") == 200


def test_cleanup_tags_on_one_digest_deleted_once(anonymous_registry, repository):
    image = push_image(anonymous_registry, repository, ["a", "b", "c"], seed=1)
    anonymous_registry.proxy.reset()

    result = cleanup(anonymous_registry, [repository], tags=["a", "b", "c"])

    assert tags(result["deleted"]) == ["a", "b", "c"]
    assert result["repositories"][0]["manifests_deleted"] == 1
    assert [record.path for record in anonymous_registry.proxy.log if record.method == "DELETE"] == [
        "/v2/%s/manifests/%s" % (repository, image.digest)
    ]


def test_cleanup_explicit_tags(registry, repository):
    for index, tag in enumerate(["pr-1", "pr-2", "pr-3", "main"]):
        push_image(registry, repository, [tag], seed=index)
    registry.proxy.reset()

    result = cleanup(registry, [repository], tags=["pr-1", "pr-3", "pr-404"])

    assert result.get("failed") is not True, result.get("msg")
    assert tags(result["deleted"]) == ["pr-1", "pr-3"]
    assert reasons(result["deleted"]) == {"pr-1": "named in tags", "pr-3": "named in tags"}
    assert reasons(result["kept"]) == {"main": "not named in tags", "pr-2": "not named in tags"}
    assert "%s: 1 named tag(s) not found: pr-404" % repository in result["actions"]
    assert sorted(tag_list(registry, repository)) == ["main", "pr-2"]


def test_cleanup_check_mode_plans_without_delete(registry, repository):
    push_aged(registry, repository, {"v1": 40, "v2": 30, "v3": 1})
    registry.proxy.reset()

    planned = cleanup(registry, [repository], check_mode=True, keep_last=1)

    assert planned.get("failed") is not True, planned.get("msg")
    assert planned["changed"] is True
    assert tags(planned["deleted"]) == ["v1", "v2"]
    assert tags(planned["kept"]) == ["v3"]
    assert "DELETE" not in proxy_methods(registry)
    assert "DELETE" not in planned["requests"]["by_method"]
    assert sorted(tag_list(registry, repository)) == ["v1", "v2", "v3"]

    applied = cleanup(registry, [repository], keep_last=1)

    assert applied["changed"] == planned["changed"]
    assert applied["deleted"] == planned["deleted"]
    assert applied["kept"] == planned["kept"]


def test_cleanup_check_mode_reader_can_plan(token_registry, repository):
    push_aged(token_registry, repository, {"v1": 40, "v2": 1})

    result = cleanup(token_registry, [repository], check_mode=True, user="reader", keep_last=1)

    assert result.get("failed") is not True, result.get("msg")
    assert tags(result["deleted"]) == ["v1"]


def test_cleanup_rerun_unchanged(registry, repository):
    push_aged(registry, repository, {"v1": 40, "v2": 30, "v3": 1})
    cleanup(registry, [repository], keep_last=1)
    registry.proxy.reset()

    result = cleanup(registry, [repository], keep_last=1)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert result["deleted"] == []
    assert tags(result["kept"]) == ["v3"]
    assert "DELETE" not in proxy_methods(registry)
    # 1 tag list, then the manifest and config of the one remaining tag.
    assert result["requests"]["total"] == AUTH_OVERHEAD[registry.mode] + 3


def test_cleanup_diff_mode(anonymous_registry, repository):
    push_aged(anonymous_registry, repository, {"v1": 40, "v2": 1})

    result = cleanup(anonymous_registry, [repository], diff=True, keep_last=1)

    assert result["diff"] == {"before": {repository: ["v1", "v2"]}, "after": {repository: ["v2"]}}


def test_cleanup_multiple_repositories_one_token(token_registry, repository):
    names = ["%s-%d" % (repository, number) for number in range(3)]
    for name in names:
        push_aged(token_registry, name, {"old": 40, "new": 1})
    token_registry.proxy.reset()

    result = cleanup(token_registry, names, older_than="30d", workers=4)

    assert result.get("failed") is not True, result.get("msg")
    assert [(entry["repository"], entry["tag"]) for entry in result["deleted"]] == [(name, "old") for name in names]
    assert result["requests"]["token"] == 1
    assert token_registry.proxy.counts()["token"] == 1
    # 1 challenge and 1 token, then per repository 1 tag list, 2 manifests and 1 delete.
    # The repositories hold the same two images, so their 2 configs are read only once.
    assert result["requests"]["total"] == 2 + 3 * 4 + 2
    assert result["requests"]["by_status"].get("401") == 1
    assert [entry["repository"] for entry in result["repositories"]] == names
    for name in names:
        assert tag_list(token_registry, name) == ["new"]


def test_cleanup_many_workers(token_registry, repository):
    ages = dict(("build-%02d" % number, 40 + number) for number in range(20))
    ages["current"] = 1
    push_aged(token_registry, repository, ages)
    token_registry.proxy.reset()

    result = cleanup(token_registry, [repository], older_than="30d", workers=8)

    assert result.get("failed") is not True, result.get("msg")
    assert len(result["deleted"]) == 20
    assert result["repositories"][0]["manifests_deleted"] == 20
    assert result["requests"]["token"] == 1
    # challenge, token, tag list, 21 manifests, 21 configs, 20 deletes.
    assert result["requests"]["total"] == 2 + 1 + 21 + 21 + 20
    assert result["requests"]["by_method"]["DELETE"] == 20
    assert token_registry.proxy.counts()["total"] == result["requests"]["total"]
    assert tag_list(token_registry, repository) == ["current"]
    assert result["elapsed"] > 0


def test_cleanup_index_dated_by_its_images(anonymous_registry, repository):
    amd64 = push_image(anonymous_registry, repository, [], architecture="amd64", seed=1, created=days_ago(50))
    arm64 = push_image(anonymous_registry, repository, [], architecture="arm64", seed=2, created=days_ago(45))
    index = push_index(anonymous_registry, repository, ["multi-old"], [amd64, arm64])
    push_image(anonymous_registry, repository, ["single-new"], seed=3, created=days_ago(1))

    result = cleanup(anonymous_registry, [repository], older_than="30d")

    assert tags(result["deleted"]) == ["multi-old"]
    assert result["deleted"][0]["created"] == days_ago(45).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert manifest_status(anonymous_registry, repository, index.digest) == 404
    assert manifest_status(anonymous_registry, repository, amd64.digest) == 200


def test_cleanup_child_of_kept_index_is_skipped(anonymous_registry, repository):
    amd64 = push_image(anonymous_registry, repository, ["amd64-build"], architecture="amd64", seed=1,
                       created=days_ago(50))
    arm64 = push_image(anonymous_registry, repository, [], architecture="arm64", seed=2, created=days_ago(50))
    push_index(anonymous_registry, repository, ["release"], [amd64, arm64])

    result = cleanup(anonymous_registry, [repository], include=["amd64-.*"], protect=["release"])

    assert result["deleted"] == []
    assert tags(result["skipped"]) == ["amd64-build"]
    assert "the index tagged release, which is kept, lists this manifest" in result["skipped"][0]["reason"]
    assert manifest_status(anonymous_registry, repository, amd64.digest) == 200


def test_cleanup_reader_fails_per_tag(token_registry, repository):
    images = push_aged(token_registry, repository, {"v1": 40, "v2": 30, "v3": 1})
    token_registry.proxy.reset()

    result = cleanup(token_registry, [repository], user="reader", keep_last=1)

    assert result["failed"] is True
    assert "the cleanup failed for 2 tag(s) or repositories" in result["msg"]
    assert result["deleted"] == []
    assert tags(result["kept"]) == ["v3"]
    assert [(entry["tag"], entry["digest"]) for entry in result["failures"]] == [
        ("v1", images["v1"].digest), ("v2", images["v2"].digest)]
    assert "'reader'" in result["failures"][0]["reason"]
    assert result["requests"]["token"] == 1
    assert result["requests"]["by_method"]["DELETE"] == 2
    assert sorted(tag_list(token_registry, repository)) == ["v1", "v2", "v3"]


def test_cleanup_delete_disabled(registry_factory, repository):
    stack = registry_factory("anonymous", delete_enabled=False)
    push_aged(stack, repository, {"v1": 40, "v2": 1})

    result = cleanup(stack, [repository], older_than="30d")

    assert result.get("failed") is True
    assert result["changed"] is False
    assert tags(result["failures"]) == ["v1"]
    assert "deletion is disabled" in result["failures"][0]["reason"]
    assert "HTTP 405" in result["failures"][0]["reason"]
    assert sorted(tag_list(stack, repository)) == ["v1", "v2"]


def test_cleanup_unknown_repository_is_empty(anonymous_registry, repository):
    result = cleanup(anonymous_registry, [repository], keep_last=1)

    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False
    assert result["repositories"] == [
        {"repository": repository, "tags": 0, "deleted": 0, "manifests_deleted": 0, "kept": 0, "skipped": 0,
         "failed": 0}
    ]


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"older_than": "30 days"}, "older_than '30 days' is invalid"),
        ({"include": ["v(1"]}, "include pattern 'v(1' is not a valid regular expression"),
        ({"keep_last": 0}, "keep_last is 0"),
        ({"keep_last": 1, "workers": 33}, "workers is 33: set a number from 1 to 32"),
        ({"tags": ["-bad"]}, "tag '-bad' is invalid"),
        ({"exclude": ["x"]}, "one of the following is required: tags, include, keep_last, older_than"),
    ],
    ids=["duration", "regex", "keep-last", "workers", "tag", "no-selector"],
)
def test_cleanup_invalid_options_send_nothing(anonymous_registry, repository, options, expected):
    anonymous_registry.proxy.reset()

    result = cleanup(anonymous_registry, [repository], **options)

    assert result["failed"] is True
    assert expected in result["msg"]
    assert anonymous_registry.proxy.counts()["total"] == 0


def test_cleanup_invalid_repository_sends_nothing(anonymous_registry, repository):
    anonymous_registry.proxy.reset()

    result = cleanup(anonymous_registry, [repository, "Team/App"], keep_last=1)

    assert result["failed"] is True
    assert "repository 'Team/App' is invalid" in result["msg"]
    assert anonymous_registry.proxy.counts()["total"] == 0


# A half-failed run, then a rerun that finishes the job -------------------------------------


class _FailingDeleteHandler(QuietHandler):
    """Forwards every request to the registry, except DELETEs of chosen digests: those get 500."""

    def do_GET(self):
        if self.command == "DELETE" and any(self.path.endswith(digest) for digest in self.server.failing):
            self.send_json(500, {"errors": [{"code": "UNKNOWN", "message": "injected failure"}]})
            return
        host, port = self.server.upstream.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            headers = dict((name, value) for name, value in self.headers.items()
                           if name.lower() not in ("connection", "keep-alive", "content-length"))
            connection.request(self.command, self.path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                self.send_header(name, value)
        length = response.getheader("Content-Length") if self.command == "HEAD" else str(len(body))
        self.send_header("Content-Length", length or "0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_DELETE = do_GET


@pytest.fixture
def failing_front(anonymous_registry):
    """A server in front of the anonymous registry whose ``failing`` digests cannot be deleted."""
    server = LoopbackServer(_FailingDeleteHandler, name="failing-front")
    server.upstream = anonymous_registry.address
    server.failing = set()
    server.start()
    yield server
    server.stop()


def test_cleanup_rerun_finishes_half_failed_run(anonymous_registry, failing_front, repository):
    images = push_aged(anonymous_registry, repository, {"a": 50, "b": 49, "c": 48, "d": 47, "new": 1})
    failing_front.failing = {images["b"].digest, images["d"].digest}
    args = dict(registry=failing_front.address, plain_http=True, repositories=[repository], older_than="30d",
                retries=0)

    first = run_module("oci_cleanup", args)

    assert first["failed"] is True
    assert first["changed"] is True
    assert tags(first["deleted"]) == ["a", "c"]
    assert tags(first["failures"]) == ["b", "d"]
    assert "injected failure" in first["failures"][0]["reason"]
    assert sorted(tag_list(anonymous_registry, repository)) == ["b", "d", "new"]

    failing_front.failing = set()
    second = run_module("oci_cleanup", args)

    assert second.get("failed") is not True, second.get("msg")
    assert second["changed"] is True
    assert tags(second["deleted"]) == ["b", "d"]

    third = run_module("oci_cleanup", args)

    assert third["changed"] is False
    assert third["deleted"] == []
    assert tag_list(anonymous_registry, repository) == ["new"]
