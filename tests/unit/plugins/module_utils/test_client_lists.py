"""Paginated lists fail closed: list_tags and list_referrers return a whole list or raise.

The shared-tag and referrer checks rely on complete lists, so every response that would
drop a page or an entry raises UnexpectedResponseError instead.
"""

import json

import pytest

from fakeregistry import Reply, json_reply, oci_error, wire_stats
from ansible_collections.oci.registry.plugins.module_utils import _client
from ansible_collections.oci.registry.plugins.module_utils._errors import UnexpectedResponseError

TAGS_PATH = "/v2/team/app/tags/list"
SUBJECT = "sha256:" + "5" * 64
REFERRERS_PATH = "/v2/team/app/referrers/" + SUBJECT
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REFERRER = {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "6" * 64, "size": 10}


def pages(first, second):
    """Return a handler: ``first`` for the request without a query, ``second`` for the next page."""
    def handler(request):
        return second if request.raw_query else first
    return handler


def link(target):
    return [("Link", '<%s>; rel="next"' % target)]


def tags_page(tags, headers=()):
    return json_reply({"name": "team/app", "tags": tags}, headers=headers)


# list_tags -------------------------------------------------------------------------------

def test_client_list_tags_follows_pages(registry, make_client):
    registry.route("GET", TAGS_PATH, pages(tags_page(["a"], link(TAGS_PATH + "?last=a")), tags_page(["b"])))
    client = make_client(registry)

    assert client.list_tags("team/app") == ["a", "b"]
    assert client.stats.as_dict() == wire_stats(registry)


def test_client_list_tags_first_page_404_empty(registry, make_client):
    registry.script("GET", TAGS_PATH, oci_error(404, "NAME_UNKNOWN", "repository name not known"))
    client = make_client(registry)

    assert client.list_tags("team/app") == []


def test_client_list_tags_null_tags_empty(registry, make_client):
    registry.script("GET", TAGS_PATH, tags_page(None))
    client = make_client(registry)

    assert client.list_tags("team/app") == []


@pytest.mark.parametrize("second, message", [
    (oci_error(404, "NAME_UNKNOWN", "gone"),
     "failed to read page 2 of the tag list of team/app on {host}: the registry answered HTTP 404 "
     "(NAME_UNKNOWN: gone) to GET /v2/team/app/tags/list."),
    (Reply(500, [("Content-Type", "text/plain")], "backend down"),
     "failed to read page 2 of the tag list of team/app on {host}: the registry answered HTTP 500 "
     "(body: 'backend down') to GET /v2/team/app/tags/list."),
    (Reply(200, [("Content-Type", "application/json")], '["prod"]'),
     "the registry {host} sent page 2 of the tag list of team/app that is not a JSON object: "
     "HTTP 200 (body: '[\"prod\"]')."),
], ids=["404", "500", "not_object"])
def test_client_list_tags_later_page_fails(registry, make_client, second, message):
    registry.route("GET", TAGS_PATH, pages(tags_page(["a"], link(TAGS_PATH + "?last=a")), second))
    client = make_client(registry, retries=0)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_tags("team/app")

    assert raised.value.msg == message.format(host=registry.host)
    assert len(registry.requests) == 2


@pytest.mark.parametrize("tags, shown", [
    ("abc", None),
    ({"prod": 1}, None),
    (["a", 1], "1"),
    (["a", None], "None"),
    (["a", "../../victim"], "'../../victim'"),
    (["a", "x" * 200], "'%s'... (200 characters)" % ("x" * 100)),
], ids=["string", "object", "number", "null", "traversal", "long"])
def test_client_list_tags_bad_tags_fail(registry, make_client, tags, shown):
    registry.script("GET", TAGS_PATH, tags_page(tags))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_tags("team/app")

    if shown is None:
        assert raised.value.msg.startswith(
            "the registry %s sent the tag list of team/app with a 'tags' field that is not a list: HTTP 200"
            % registry.host
        )
    else:
        assert raised.value.msg == (
            "the registry %s listed %s in the tag list of team/app, which is not a valid tag; the tag "
            "list cannot be trusted." % (registry.host, shown)
        )
    assert len(registry.requests) == 1


@pytest.mark.parametrize("target, reason", [
    ("http://localhost:{port}/v2/team/app/tags/list?last=a",
     "'http://localhost:{port}/v2/team/app/tags/list' is on http://localhost:{port}, not on the "
     "registry's origin http://127.0.0.1:{port}"),
    ("https://127.0.0.1:{port}/v2/team/app/tags/list?last=a",
     "'https://127.0.0.1:{port}/v2/team/app/tags/list' is on https://127.0.0.1:{port}, not on the "
     "registry's origin http://127.0.0.1:{port}"),
    ("http://127.0.0.1:99999/v2/team/app/tags/list?last=a",
     "'http://127.0.0.1:99999/v2/team/app/tags/list?last=a' is not a usable URL (its port is not a "
     "number from 1 to 65535)"),
    ("http://[::1/v2/team/app/tags/list?last=a",
     "'http://[::1/v2/team/app/tags/list?last=a' is not a usable URL (Invalid IPv6 URL)"),
], ids=["other_host", "other_scheme", "port_99999", "open_bracket"])
def test_client_list_tags_unusable_link_fails(registry, make_client, target, reason):
    port = registry.host.split(":")[1]
    registry.route("GET", TAGS_PATH, pages(tags_page(["a"], link(target.format(port=port))), tags_page(["prod"])))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_tags("team/app")

    assert raised.value.msg == (
        "the registry %s sent a Link to the next page of the tag list of team/app that the client does "
        "not follow: %s. Without that page the list would be incomplete."
        % (registry.host, reason.format(port=port))
    )
    assert len(registry.requests) == 1


def test_client_list_tags_page_limit(registry, make_client, monkeypatch):
    monkeypatch.setattr(_client, "MAX_LIST_PAGES", 3)

    def endless(request):
        number = len(registry.seen("GET", TAGS_PATH))
        return tags_page([], link(TAGS_PATH + "?last=%d" % number))

    registry.route("GET", TAGS_PATH, endless)
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_tags("team/app")

    assert raised.value.msg == (
        "the registry %s sent more than 3 pages of the tag list of team/app; the client stops there, "
        "taking the Link headers for a loop." % registry.host
    )
    assert len(registry.requests) == 3


def test_client_list_tags_page_loop(registry, make_client):
    first = tags_page(["a"], link(TAGS_PATH + "?last=a"))
    second = tags_page(["b"], link(TAGS_PATH + "?last=a"))
    registry.route("GET", TAGS_PATH, pages(first, second))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_tags("team/app")

    assert raised.value.msg == (
        "the registry %s linked the tag list of team/app back to a page it already sent "
        "('/v2/team/app/tags/list?last=a')." % registry.host
    )
    assert len(registry.requests) == 2


def test_client_list_tags_too_large(registry, make_client, monkeypatch):
    monkeypatch.setattr(_client, "MANIFEST_BODY_LIMIT", 64)
    registry.script("GET", TAGS_PATH, tags_page(["tag-%d" % number for number in range(20)]))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_tags("team/app")

    assert raised.value.msg == (
        "page 1 of the tag list of team/app from the registry %s is larger than 64 bytes; it is not read."
        % registry.host
    )


# list_referrers --------------------------------------------------------------------------

def referrers_page(manifests, headers=()):
    return json_reply({"schemaVersion": 2, "manifests": manifests}, headers=headers)


def test_client_list_referrers_follows_pages(registry, make_client):
    second = dict(REFERRER, digest="sha256:" + "7" * 64)
    registry.route("GET", REFERRERS_PATH, pages(referrers_page([REFERRER], link(REFERRERS_PATH + "?page=2")),
                                                referrers_page([second])))
    client = make_client(registry)

    assert client.list_referrers("team/app", SUBJECT) == [REFERRER, second]


def test_client_list_referrers_first_page_404_none(registry, make_client):
    registry.script("GET", REFERRERS_PATH, oci_error(404, "NAME_UNKNOWN", "no referrers API"))
    client = make_client(registry)

    assert client.list_referrers("team/app", SUBJECT) is None


@pytest.mark.parametrize("second, start", [
    (oci_error(404, "NAME_UNKNOWN", "gone"), "failed to read page 2 of the referrers of %s in team/app" % SUBJECT),
    (Reply(200, [("Content-Type", "application/json")], "null"),
     "the registry {host} sent page 2 of the referrers of %s in team/app that is not a JSON object" % SUBJECT),
    (referrers_page(None), "the registry {host} sent a referrers list for %s in team/app that is not an "
                           "image index" % SUBJECT),
], ids=["404", "not_object", "manifests_null"])
def test_client_list_referrers_later_page_fails(registry, make_client, second, start):
    registry.route("GET", REFERRERS_PATH, pages(referrers_page([REFERRER], link(REFERRERS_PATH + "?page=2")),
                                                second))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_referrers("team/app", SUBJECT)

    assert raised.value.msg.startswith(start.format(host=registry.host))
    assert len(registry.requests) == 2


def test_client_list_referrers_other_origin_fails(registry, make_client):
    port = registry.host.split(":")[1]
    target = "http://localhost:%s%s?page=2" % (port, REFERRERS_PATH)
    registry.route("GET", REFERRERS_PATH, pages(referrers_page([REFERRER], link(target)), referrers_page([])))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_referrers("team/app", SUBJECT)

    assert raised.value.msg.startswith(
        "the registry %s sent a Link to the next page of the referrers of %s in team/app that the client "
        "does not follow: " % (registry.host, SUBJECT)
    )
    assert len(registry.requests) == 1


def test_client_list_referrers_page_limit(registry, make_client, monkeypatch):
    monkeypatch.setattr(_client, "MAX_LIST_PAGES", 2)

    def endless(request):
        number = len(registry.seen("GET", REFERRERS_PATH))
        return referrers_page([], link(REFERRERS_PATH + "?page=%d" % number))

    registry.route("GET", REFERRERS_PATH, endless)
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_referrers("team/app", SUBJECT)

    assert "sent more than 2 pages of the referrers of %s in team/app" % SUBJECT in raised.value.msg
    assert len(registry.requests) == 2


def test_client_list_referrers_body_json(registry, make_client):
    # The descriptors come back as the registry sent them, extra fields included.
    entry = dict(REFERRER, artifactType="application/example", annotations={"a": "b"})
    registry.script("GET", REFERRERS_PATH, Reply(200, [("Content-Type", "application/json")],
                                                 json.dumps({"manifests": [entry]})))
    client = make_client(registry)

    assert client.list_referrers("team/app", SUBJECT) == [entry]
