"""What the client's error messages show: no part of a secret, and a plain_http hint.

Secrets are masked in the whole body before the snippet is cut and its whitespace
folded, so neither step can let a part of a password or of the Basic credentials through.
"""

import base64

import pytest

from fakeregistry import Reply, basic_value, challenge, oci_error
from ansible_collections.oci.registry.plugins.module_utils._client import Response
from ansible_collections.oci.registry.plugins.module_utils._errors import UnexpectedResponseError

PASSWORD = "correct  horse\tbattery-staple-0123456789"
ENCODED = base64.b64encode(("alice:" + PASSWORD).encode()).decode()
TAG_PATH = "/v2/team/app/manifests/v1"


def mask(text):
    return text.replace(PASSWORD, "********").replace(ENCODED, "********")


def text_reply(status, body):
    return Reply(status, [("Content-Type", "text/plain")], body)


# Response.describe ------------------------------------------------------------------------

# The first two bodies pass the 200-character snippet length inside the secret.
@pytest.mark.parametrize("body, expected", [
    ("x" * 160 + " echo: Basic " + ENCODED, "body: '%s echo: Basic ********'" % ("x" * 160)),
    ("y" * 160 + " password=" + PASSWORD, "body: '%s password=********'" % ("y" * 160)),
    ("upstream rejected password " + PASSWORD + " for alice",
     "body: 'upstream rejected password ******** for alice'"),
], ids=["basic_cut", "password_cut", "password_whitespace"])
def test_response_describe_masks_before_cut(body, expected):
    response = Response("GET", "http://registry/v2/", 500, {}, body.encode())

    assert response.describe(mask) == "HTTP 500 (%s)" % expected


def test_response_describe_masks_oci_messages():
    body = b'{"errors": [{"code": "DENIED", "message": "bad password correct  horse\\tbattery-staple-0123456789"}]}'
    response = Response("GET", "http://registry/v2/", 403, {}, body)

    assert response.describe(mask) == "HTTP 403 (DENIED: bad password ********)"


@pytest.mark.parametrize("echo", [
    lambda authorization: "x" * 160 + " echo: " + authorization,
    lambda authorization: "y" * 160 + " password=" + PASSWORD,
    lambda authorization: "upstream rejected password " + PASSWORD + " for alice",
], ids=["basic_cut", "password_cut", "password_whitespace"])
def test_client_error_body_secrets_masked(registry, make_client, echo):
    unauthorized = challenge('Basic realm="corp"')

    def handler(request):
        if request.header("Authorization") != basic_value("alice", PASSWORD):
            return unauthorized
        return text_reply(500, echo(request.header("Authorization")))

    registry.route("GET", "/v2/team/app/tags/list", handler)
    client = make_client(registry, username="alice", password=PASSWORD, retries=0)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.list_tags("team/app")

    assert "********" in raised.value.msg
    assert ENCODED[:12] not in raised.value.msg
    assert "correct" not in raised.value.msg
    assert "battery" not in raised.value.msg


# The plain_http hint ----------------------------------------------------------------------

PLAIN_HTTP_HINT = ("plain_http is true: if the registry serves HTTPS on this port, it answers plain "
                   "HTTP requests with 400; then set plain_http to false")


def test_client_plain_http_first_400_hint(registry, make_client):
    registry.script("HEAD", TAG_PATH, Reply(400))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert raised.value.msg == (
        "failed to resolve manifest 'v1' in team/app on %s: the registry answered HTTP 400 (%s) to "
        "HEAD %s." % (registry.host, PLAIN_HTTP_HINT, TAG_PATH)
    )


def test_client_plain_http_400_with_codes_no_hint(registry, make_client):
    registry.script("GET", TAG_PATH, oci_error(400, "MANIFEST_INVALID", "bad"))
    client = make_client(registry)

    with pytest.raises(UnexpectedResponseError) as raised:
        client.get_manifest("team/app", "v1")

    assert PLAIN_HTTP_HINT not in raised.value.msg


def test_client_plain_http_later_400_no_hint(registry, make_client):
    registry.script("HEAD", TAG_PATH, Reply(404))
    registry.script("HEAD", "/v2/team/app/manifests/v2", Reply(400))
    client = make_client(registry)
    client.resolve_manifest("team/app", "v1")

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v2")

    assert PLAIN_HTTP_HINT not in raised.value.msg


def test_client_https_400_no_hint(tls_registry, make_client, tls_files):
    registry = tls_registry()
    registry.script("HEAD", TAG_PATH, Reply(400))
    client = make_client(registry, ca_path=tls_files["ca"])

    with pytest.raises(UnexpectedResponseError) as raised:
        client.resolve_manifest("team/app", "v1")

    assert PLAIN_HTTP_HINT not in raised.value.msg
