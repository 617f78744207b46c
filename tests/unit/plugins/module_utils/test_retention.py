"""Unit tests for the retention planner behind oci_cleanup: no registry, no I/O."""

import datetime
import json

import pytest

from ansible_collections.oci.registry.plugins.module_utils._errors import InvalidInputError
from ansible_collections.oci.registry.plugins.module_utils._retention import (
    RetentionPolicy,
    TagState,
    config_created,
    format_duration,
    group_by_digest,
    manifest_facts,
    parse_duration,
    parse_timestamp,
    protect_shared_digests,
)

UTC = datetime.timezone.utc
CONFIG_DIGEST = "sha256:" + "c0" * 32
CHILD_A = "sha256:" + "a" * 64
CHILD_B = "sha256:" + "b" * 64
NOW = datetime.datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def days_ago(days):
    return NOW - datetime.timedelta(days=days)


def state(tag, digest=None, age_days=None, media_type=None):
    created = None if age_days is None else days_ago(age_days)
    return TagState(tag, digest or "sha256:" + tag, created, media_type)


def tags_of(pairs):
    return [entry.tag for entry, reason in pairs]


# Durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("30d", 30 * 86400),
        ("12h", 12 * 3600),
        ("90m", 90 * 60),
        ("1w", 7 * 86400),
        ("45s", 45),
        ("1w2d", 9 * 86400),
        ("1h30m", 5400),
        (" 2D ", 2 * 86400),
    ],
)
def test_parse_duration_valid(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "30x", "-1d", "1.5d", "30 d", "1d 2h", "P30D"])
def test_parse_duration_invalid(text):
    with pytest.raises(InvalidInputError) as raised:
        parse_duration(text)
    assert "older_than %r is invalid" % text in raised.value.msg


def test_parse_duration_zero():
    with pytest.raises(InvalidInputError) as raised:
        parse_duration("0d")
    assert "is zero" in raised.value.msg


@pytest.mark.parametrize("seconds, text", [(604800, "1w"), (86400 * 30, "30d"), (5400, "90m"), (7200, "2h"), (61, "61s")])
def test_format_duration_largest_unit(seconds, text):
    assert format_duration(seconds) == text


# Timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-01T12:00:00Z", datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123456789Z", datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T14:00:00+02:00", datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01t12:00:00.5z", datetime.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2024-05-01 07:30:00-04:30", datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_valid(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("value", [None, 17, "", "2024-05-01", "2024-05-01T12:00:00", "2024-13-01T00:00:00Z", "yesterday"])
def test_parse_timestamp_invalid(value):
    assert parse_timestamp(value) is None


def test_config_created_reads_field():
    assert config_created(b'{"created": "2024-05-01T12:00:00Z", "os": "linux"}') == datetime.datetime(
        2024, 5, 1, 12, tzinfo=UTC
    )


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"os": "linux"}', b'{"created": 5}', b"\xff\xfe"])
def test_config_created_missing(body):
    assert config_created(body) is None


# Manifest facts -----------------------------------------------------------------------


def test_manifest_facts_image_points_to_config():
    body = json.dumps({"schemaVersion": 2, "config": {"digest": CONFIG_DIGEST}, "layers": []}).encode()

    facts = manifest_facts(body)

    assert facts.created is None
    assert facts.config_digest == CONFIG_DIGEST
    assert facts.children == ()


def test_manifest_facts_invalid_config_digest_dropped():
    body = json.dumps({"config": {"digest": "../../other/blobs/" + CONFIG_DIGEST}}).encode()

    facts = manifest_facts(body)

    assert facts.config_digest is None
    assert facts.children == ()


def test_manifest_facts_annotation_wins_over_config():
    body = json.dumps({
        "config": {"digest": CONFIG_DIGEST},
        "annotations": {"org.opencontainers.image.created": "2024-01-02T03:04:05Z"},
    }).encode()

    facts = manifest_facts(body)

    assert facts.created == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert facts.config_digest is None


def test_manifest_facts_index_lists_children():
    body = json.dumps({"manifests": [{"digest": CHILD_A}, {"digest": CHILD_B}, {"size": 3}]}).encode()

    assert manifest_facts(body).children == (CHILD_A, CHILD_B)


def test_manifest_facts_invalid_child_digests_dropped():
    children = [{"digest": CHILD_A}, {"digest": "latest"}, {"digest": "../../other/manifests/" + CHILD_B},
                {"digest": "sha256:" + "A" * 64}, {"digest": 7}]
    body = json.dumps({"manifests": children}).encode()

    assert manifest_facts(body).children == (CHILD_A,)


def test_manifest_facts_schema1_history():
    body = json.dumps({"history": [{"v1Compatibility": json.dumps({"created": "2024-02-03T04:05:06Z"})}]}).encode()

    assert manifest_facts(body).created == datetime.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"", b"[1]", b'{"schemaVersion": 2}', b"\xff"])
def test_manifest_facts_unreadable(body):
    assert manifest_facts(body) == (None, None, ())


# Policy: selection by name -------------------------------------------------------------


def test_policy_requires_a_selector():
    with pytest.raises(InvalidInputError) as raised:
        RetentionPolicy(exclude=["dev-.*"], protect=["latest"])
    assert "set at least one of tags, include, keep_last and older_than" in raised.value.msg


def test_policy_rejects_keep_last_zero():
    with pytest.raises(InvalidInputError) as raised:
        RetentionPolicy(keep_last=0)
    assert "keep_last is 0" in raised.value.msg


def test_policy_rejects_invalid_regex():
    with pytest.raises(InvalidInputError) as raised:
        RetentionPolicy(include=["v(1"])
    assert "include pattern 'v(1' is not a valid regular expression" in raised.value.msg


def test_policy_select_include_is_full_match():
    policy = RetentionPolicy(include=["v1", "dev-.*"])

    scope, kept = policy.select(["v1", "v10", "xv1", "dev-a", "dev-", "prod-dev-a"])

    assert scope == ["dev-", "dev-a", "v1"]
    assert kept == {"v10": "matches no include pattern", "xv1": "matches no include pattern",
                    "prod-dev-a": "matches no include pattern"}


def test_policy_select_exclude_is_full_match():
    policy = RetentionPolicy(include=[".*"], exclude=["dev"])

    scope, kept = policy.select(["dev", "dev-2", "main"])

    assert scope == ["dev-2", "main"]
    assert kept == {"dev": "matches an exclude pattern"}


def test_policy_select_protect_beats_everything():
    policy = RetentionPolicy(tags=["latest", "old"], include=["latest", "old"], protect=["latest"])

    scope, kept = policy.select(["latest", "old"])

    assert scope == ["old"]
    assert kept == {"latest": "protected"}


def test_policy_select_explicit_tags():
    policy = RetentionPolicy(tags=["a", "c", "missing"])

    scope, kept = policy.select(["a", "b", "c"])

    assert scope == ["a", "c"]
    assert kept == {"b": "not named in tags"}


def test_policy_select_explicit_tags_filtered_by_include():
    policy = RetentionPolicy(tags=["pr-1", "v1"], include=["pr-.*"])

    scope, kept = policy.select(["pr-1", "v1"])

    assert scope == ["pr-1"]
    assert kept == {"v1": "matches no include pattern"}


def test_policy_select_deduplicates_and_sorts():
    scope, kept = RetentionPolicy(include=[".*"]).select(["b", "a", "b"])

    assert scope == ["a", "b"]


# Policy: decisions by time -------------------------------------------------------------


def test_decide_without_time_policy_deletes_scope():
    policy = RetentionPolicy(tags=["a", "b"])

    delete, keep = policy.decide([state("a"), state("b")], NOW)

    assert [(entry.tag, reason) for entry, reason in delete] == [("a", "named in tags"), ("b", "named in tags")]
    assert keep == []


def test_decide_include_reason():
    delete, keep = RetentionPolicy(include=["a"]).decide([state("a")], NOW)

    assert delete[0][1] == "matches an include pattern"


def test_decide_keep_last_keeps_newest():
    policy = RetentionPolicy(keep_last=2)
    states = [state("v1", age_days=30), state("v2", age_days=20), state("v3", age_days=10), state("v4", age_days=1)]

    delete, keep = policy.decide(states, NOW)

    assert tags_of(keep) == ["v4", "v3"]
    assert tags_of(delete) == ["v2", "v1"]
    assert dict((entry.tag, reason) for entry, reason in keep)["v4"] == "one of the 2 newest (rank 1)"
    assert dict((entry.tag, reason) for entry, reason in delete)["v1"] == "not one of the 2 newest (rank 4)"


def test_decide_keep_last_tie_broken_by_tag():
    policy = RetentionPolicy(keep_last=1)
    states = [state("build-a", age_days=5), state("build-c", age_days=5), state("build-b", age_days=5)]

    delete, keep = policy.decide(states, NOW)

    assert tags_of(keep) == ["build-c"]
    assert tags_of(delete) == ["build-b", "build-a"]


def test_decide_keep_last_more_than_tags():
    delete, keep = RetentionPolicy(keep_last=10).decide([state("a", age_days=3), state("b", age_days=2)], NOW)

    assert delete == []
    assert tags_of(keep) == ["b", "a"]


def test_decide_older_than():
    policy = RetentionPolicy(older_than=30 * 86400)
    states = [state("old", age_days=31), state("young", age_days=29)]

    delete, keep = policy.decide(states, NOW)

    assert tags_of(delete) == ["old"]
    assert tags_of(keep) == ["young"]
    assert delete[0][1] == "created 2024-05-01T12:00:00Z, more than 30d ago"
    assert keep[0][1] == "created 2024-05-03T12:00:00Z, less than 30d ago"


def test_decide_older_than_boundary_is_kept():
    delete, keep = RetentionPolicy(older_than=86400).decide([state("edge", age_days=1)], NOW)

    assert delete == []
    assert tags_of(keep) == ["edge"]


def test_decide_keep_last_and_older_than_need_both():
    policy = RetentionPolicy(keep_last=2, older_than=30 * 86400)
    states = [state("a", age_days=100), state("b", age_days=90), state("c", age_days=40), state("d", age_days=10),
              state("e", age_days=5)]

    delete, keep = policy.decide(states, NOW)

    # d and e are the two newest; c, b and a are older than 30 days and outside them.
    assert tags_of(delete) == ["c", "b", "a"]
    assert tags_of(keep) == ["e", "d"]
    assert delete[0][1] == "not one of the 2 newest (rank 3); created 2024-04-22T12:00:00Z, more than 30d ago"


def test_decide_keep_last_older_than_keeps_young():
    policy = RetentionPolicy(keep_last=1, older_than=30 * 86400)
    states = [state("a", age_days=3), state("b", age_days=2), state("c", age_days=1)]

    delete, keep = policy.decide(states, NOW)

    assert delete == []
    assert tags_of(keep) == ["c", "b", "a"]
    assert dict((entry.tag, reason) for entry, reason in keep)["a"] == (
        "created 2024-05-29T12:00:00Z, less than 30d ago"
    )


def test_decide_unknown_created_is_kept_and_not_ranked():
    policy = RetentionPolicy(keep_last=1)
    states = [state("mystery"), state("new", age_days=1), state("old", age_days=2)]

    delete, keep = policy.decide(states, NOW)

    assert tags_of(delete) == ["old"]
    assert sorted(tags_of(keep)) == ["mystery", "new"]
    assert dict((entry.tag, reason) for entry, reason in keep)["mystery"] == "creation time unknown"


# Shared digests ----------------------------------------------------------------------


def test_protect_shared_digests_skips_digest_of_kept_tag():
    delete = [(state("old", "sha256:d1"), "named in tags"), (state("other", "sha256:d2"), "named in tags")]
    kept = [state("stable", "sha256:d1"), state("latest", "sha256:d3")]

    remaining, skipped = protect_shared_digests(delete, kept)

    assert tags_of(remaining) == ["other"]
    assert tags_of(skipped) == ["old"]
    assert skipped[0][1] == ("not deleted: its digest is also tagged stable, which is kept; deleting the manifest "
                             "would delete those tags too")


def test_protect_shared_digests_skips_child_of_kept_index():
    delete = [(state("amd64-old", "sha256:child"), "named in tags")]

    remaining, skipped = protect_shared_digests(delete, [state("multi", "sha256:index")],
                                                references={"sha256:child": ["multi"]})

    assert remaining == []
    assert skipped[0][1] == ("not deleted: the index tagged multi, which is kept, lists this manifest; deleting it "
                             "would break that index")


def test_protect_shared_digests_unknown_kept_digest_blocks_all():
    delete = [(state("a", "sha256:d1"), "named in tags"), (state("b", "sha256:d2"), "named in tags")]

    remaining, skipped = protect_shared_digests(delete, [TagState("broken", None)])

    assert remaining == []
    assert tags_of(skipped) == ["a", "b"]
    assert "kept tag(s) broken could not be read completely" in skipped[0][1]


def test_protect_shared_digests_incomplete_blocks_all():
    delete = [(state("a", "sha256:d1"), "named in tags")]

    remaining, skipped = protect_shared_digests(delete, [], incomplete={"failed-tag"})

    assert remaining == []
    assert "failed-tag" in skipped[0][1]


def test_protect_shared_digests_nothing_to_delete_ignores_unknown():
    assert protect_shared_digests([], [TagState("broken", None)]) == ([], [])


def test_protect_shared_digests_lists_at_most_five_names():
    delete = [(state("x", "sha256:d"), "named in tags")]
    kept = [state("k%d" % number, "sha256:d") for number in range(7)]

    remaining, skipped = protect_shared_digests(delete, kept)

    assert "k0, k1, k2, k3, k4 and 2 more" in skipped[0][1]


def test_group_by_digest_one_group_per_digest():
    delete = [(state("a", "sha256:2"), "r"), (state("b", "sha256:1"), "r"), (state("c", "sha256:2"), "r")]

    groups = group_by_digest(delete)

    assert [(digest, [entry.tag for entry in entries]) for digest, entries in groups] == [
        ("sha256:1", ["b"]),
        ("sha256:2", ["a", "c"]),
    ]
