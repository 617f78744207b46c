"""Smoke tests of the test support stack: real registries, real tokens, exact counts.

They also pin down the status codes Distribution 2.8.2 returns in the edge
cases the modules must handle, so a registry upgrade that changes them shows up here first.
"""

import os
from collections import Counter

import pytest
import requests

from tests.support import images, runner, tokenservice
from tests.support.proxy import ProxyRecord

MANIFEST_ACCEPT = ", ".join(images.MANIFEST_MEDIA_TYPES)


def fetch_token(stack, repository, actions, user):
    response = requests.get(
        stack.url + "/token",
        params={"service": tokenservice.SERVICE, "scope": "repository:%s:%s" % (repository, actions)},
        auth=user,
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()["token"]


def bearer(token):
    return {"Authorization": "Bearer " + token}


def error_codes(response):
    return [error["code"] for error in response.json()["errors"]]


def test_push_image_visible_in_every_mode(registry, repository):
    image = images.push_image(registry, repository, ["v1", "latest"], layers=2)
    registry.proxy.reset()

    assert images.manifest_status(registry, repository, "v1") == 200
    assert images.manifest_status(registry, repository, image.digest) == 200
    assert images.blob_status(registry, repository, image.config_digest) == 200
    assert [images.blob_status(registry, repository, digest) for digest in image.layer_digests] == [200, 200]
    assert sorted(images.tag_list(registry, repository)) == ["latest", "v1"]


def test_push_index_lists_children(registry, repository):
    amd64 = images.push_image(registry, repository, [], architecture="amd64")
    arm64 = images.push_image(registry, repository, [], architecture="arm64", media_type=images.DOCKER_MANIFEST)
    index = images.push_index(registry, repository, ["multi"], [amd64, arm64])

    assert images.manifest_status(registry, repository, "multi") == 200
    assert images.manifest_status(registry, repository, arm64.digest) == 200
    assert images.tag_list(registry, repository) == ["multi"]
    assert index.digest == images.sha256_digest(index.manifest_bytes)


def test_push_image_same_seed_same_digest(anonymous_registry, repository):
    created = "2024-01-01T00:00:00Z"
    first = images.push_image(anonymous_registry, repository, ["a"], seed=7, created=created)
    second = images.push_image(anonymous_registry, repository, ["b"], seed=7, created=created)

    assert first.digest == second.digest


def test_token_delete_manifest_accepted(token_registry, repository):
    image = images.push_image(token_registry, repository, ["v1"])
    token = fetch_token(token_registry, repository, "pull,delete", token_registry.admin)
    token_registry.proxy.reset()

    response = requests.delete(
        "%s/v2/%s/manifests/%s" % (token_registry.url, repository, image.digest), headers=bearer(token), timeout=10
    )

    assert response.status_code == 202
    assert token_registry.proxy.log == [
        ProxyRecord("DELETE", "/v2/%s/manifests/%s" % (repository, image.digest), 202, "registry")
    ]
    assert images.manifest_status(token_registry, repository, image.digest) == 404
    assert images.manifest_status(token_registry, repository, "v1") == 404
    assert images.tag_list(token_registry, repository) == []


def test_token_reader_delete_rejected(token_registry, repository):
    """Distribution 2.8.2 returns 401 with error="insufficient_scope", not 403."""
    image = images.push_image(token_registry, repository, ["v1"])
    token = fetch_token(token_registry, repository, "pull,delete", token_registry.reader)

    response = requests.delete(
        "%s/v2/%s/manifests/%s" % (token_registry.url, repository, image.digest), headers=bearer(token), timeout=10
    )

    assert response.status_code == 401
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="repository:%s:delete"' % repository in response.headers["WWW-Authenticate"]
    assert images.manifest_status(token_registry, repository, image.digest) == 200


def test_token_service_grants_intersection(token_registry, repository):
    token_registry.token_service.reset()

    fetch_token(token_registry, repository, "pull,push,delete", token_registry.reader)

    issued = token_registry.token_service.requests
    assert [request.username for request in issued] == ["reader"]
    assert issued[0].access == [{"type": "repository", "name": repository, "actions": ["pull"]}]


def test_token_anonymous_challenge_has_scope(token_registry, repository):
    response = requests.get("%s/v2/%s/manifests/v1" % (token_registry.url, repository), timeout=10)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="http://%s/token",service="%s",scope="repository:%s:pull"'
        % (token_registry.address, tokenservice.SERVICE, repository)
    )


def test_token_bad_password_rejected(token_registry, repository):
    response = requests.get(
        token_registry.url + "/token",
        params={"service": tokenservice.SERVICE, "scope": "repository:%s:pull" % repository},
        auth=("admin", "wrong"),
        timeout=10,
    )

    assert response.status_code == 401
    assert error_codes(response) == ["UNAUTHORIZED"]


def test_token_oauth2_password_and_refresh(token_registry, repository):
    image = images.push_image(token_registry, repository, ["v1"])
    form = {
        "grant_type": "password", "username": "reader", "password": "reader-secret-pw", "access_type": "offline",
        "service": tokenservice.SERVICE, "scope": "repository:%s:pull" % repository, "client_id": "tests",
    }
    first = requests.post(token_registry.url + "/token", data=form, timeout=10)
    refreshed = requests.post(
        token_registry.url + "/token",
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"],
              "service": tokenservice.SERVICE, "scope": form["scope"]},
        timeout=10,
    )

    assert first.status_code == 200
    assert refreshed.status_code == 200
    assert "token" not in refreshed.json()
    response = requests.head(
        "%s/v2/%s/manifests/%s" % (token_registry.url, repository, image.digest),
        headers=dict(bearer(refreshed.json()["access_token"]), Accept=MANIFEST_ACCEPT),
        timeout=10,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("repository:it/app:pull", ("repository", "it/app", ["pull"])),
        ("repository:127.0.0.1:5000/it/app:pull,push", ("repository", "127.0.0.1:5000/it/app", ["pull", "push"])),
        ("registry:catalog:*", ("registry", "catalog", ["*"])),
        ("repository:it/app:", ("repository", "it/app", [])),
    ],
    ids=["plain", "host-with-port", "catalog", "no-actions"],
)
def test_parse_scope_splits_type_name_actions(scope, expected):
    assert tokenservice.parse_scope(scope) == expected


def test_parse_scope_missing_name_rejected():
    with pytest.raises(tokenservice.TokenError):
        tokenservice.parse_scope("repository:pull")


def test_registry_delete_by_tag_digest_invalid(registry, repository):
    images.push_image(registry, repository, ["v1"])

    with images.AdminClient(registry, repository) as client:
        response = client.request("DELETE", "/manifests/v1")

    assert response.status_code == 400
    assert error_codes(response) == ["DIGEST_INVALID"]


def test_registry_head_blob_digest_as_manifest(anonymous_registry, repository):
    """Distribution 2.8.2 fails with 500 UNKNOWN when a blob digest is used as a manifest reference."""
    image = images.push_image(anonymous_registry, repository, ["v1"])
    url = "%s/v2/%s/manifests/" % (anonymous_registry.url, repository)

    head = requests.head(url + image.layer_digests[0], headers={"Accept": MANIFEST_ACCEPT}, timeout=10)
    get = requests.get(url + image.config_digest, headers={"Accept": MANIFEST_ACCEPT}, timeout=10)

    assert head.status_code == 500
    assert get.status_code == 500
    assert error_codes(get) == ["UNKNOWN"]


def test_registry_delete_disabled_unsupported(registry_factory, repository):
    stack = registry_factory("anonymous", delete_enabled=False)
    image = images.push_image(stack, repository, ["v1"])

    response = requests.delete("%s/v2/%s/manifests/%s" % (stack.url, repository, image.digest), timeout=10)

    assert response.status_code == 405
    assert error_codes(response) == ["UNSUPPORTED"]


def test_registry_blob_delete_visible_at_once(registry, repository):
    image = images.push_image(registry, repository, ["v1"])
    assert images.blob_status(registry, repository, image.config_digest) == 200

    with images.AdminClient(registry, repository) as client:
        response = client.request("DELETE", "/blobs/" + image.config_digest)

    assert response.status_code == 202
    assert images.blob_status(registry, repository, image.config_digest) == 404


def test_basic_reader_has_full_access(basic_registry, repository):
    """htpasswd auth in Distribution 2.8.2 authenticates but does not authorize: reader can delete."""
    image = images.push_image(basic_registry, repository, ["v1"])

    response = requests.delete(
        "%s/v2/%s/manifests/%s" % (basic_registry.url, repository, image.digest), auth=basic_registry.reader, timeout=10
    )

    assert response.status_code == 202


def test_proxy_counts_every_request(registry, repository):
    """Send a chunked upload and a mix of methods, and count them on both sides."""
    sent = Counter()
    blob = os.urandom(3 * 1024 * 1024 + 17)
    digest = images.sha256_digest(blob)

    with images.AdminClient(registry, repository) as client:
        client.session.hooks["response"].append(lambda response, **kwargs: sent.update([response.request.method]))
        registry.proxy.reset()
        started = client.request("POST", "/blobs/uploads/")
        patched = client.request(
            "PATCH", started.headers["Location"], data=iter([blob[:1000], blob[1000:]]),
            headers={"Content-Type": "application/octet-stream"},
        )
        finished = client.request("PUT", patched.headers["Location"], params={"digest": digest})
        fetched = client.request("GET", "/blobs/" + digest)
        missing = client.request("HEAD", "/blobs/sha256:" + "0" * 64)
    counts = registry.proxy.counts()

    assert [started.status_code, patched.status_code, finished.status_code] == [202, 202, 201]
    assert fetched.content == blob
    assert missing.status_code == 404
    assert counts["total"] == sum(sent.values())
    assert counts["by_method"] == dict(sent)
    assert counts["token"] == 0
    assert counts["by_status"] == {"202": 2, "201": 1, "200": 1, "404": 1}


def test_tls_client_certificate_required(registry_factory, repository):
    stack = registry_factory("token", tls=True, client_ca=True)
    image = images.push_image(stack, repository, ["v1"])
    token = fetch_token(stack, repository, "pull", stack.admin)
    url = "%s/v2/%s/manifests/v1" % (stack.direct_url, repository)

    with_cert = requests.head(
        url, headers=dict(bearer(token), Accept=MANIFEST_ACCEPT), verify=stack.ca_path,
        cert=(stack.client_cert, stack.client_key), timeout=10,
    )
    challenge = requests.get(
        stack.direct_url + "/v2/", verify=stack.ca_path, cert=(stack.client_cert, stack.client_key), timeout=10
    )

    assert with_cert.status_code == 200
    assert with_cert.headers["Docker-Content-Digest"] == image.digest
    assert challenge.headers["WWW-Authenticate"].startswith('Bearer realm="https://')
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(stack.direct_url + "/v2/", verify=stack.ca_path, timeout=10)


def test_runner_module_returns_result():
    result = runner.run_python_module("ansible.modules.ping", {"data": "pong"}, check_mode=True)

    assert result["ping"] == "pong"


def test_runner_playbook_returns_tasks(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Ping\n      ansible.builtin.ping:\n        data: '{{ word }}'\n"
        "    - name: Fail\n      ansible.builtin.fail:\n        msg: planned\n      ignore_errors: true\n"
    )

    run = runner.run_playbook(playbook, extravars={"word": "pong"})

    assert run["rc"] == 0
    assert [(task["task"], task["status"]) for task in run["tasks"]] == [("Ping", "ok"), ("Fail", "ignored")]
    assert run["tasks"][0]["result"]["ping"] == "pong"
    assert run["stats"]["localhost"]["ignored"] == 1
