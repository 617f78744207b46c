"""oci_manifest and oci_blob run as real module subprocesses against fake registries.

Covers what the module logic decides (bad input, 404 on DELETE, non-manifest digests,
validate_certs) and that no password, token or encoded credential reaches the output.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys

import pytest

from conftest import COLLECTIONS_PATH, module_environment, warning_messages
from fakeregistry import (
    TOKEN_PATH,
    Reply,
    basic_value,
    challenge,
    manifest_reply,
    oci_error,
    token_auth,
    wire_stats,
)

MANIFEST = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
FOUND = manifest_reply(MANIFEST, OCI_MANIFEST, DIGEST)
TAG_PATH = "/v2/team/app/manifests/v1"
DIGEST_PATH = "/v2/team/app/manifests/" + DIGEST
NO_REQUESTS = {"total": 0, "token": 0, "retries": 0, "by_method": {}, "by_status": {}}


def manifest_args(server, **overrides):
    args = {
        "registry": server.host,
        "plain_http": True,
        "repository": "team/app",
        "tag": "v1",
        "state": "absent",
        "shared_tags": "ignore",
        "referrers": "ignore",
        "retries": 1,
        "timeout": 5,
    }
    args.update(overrides)
    return {name: value for name, value in args.items() if value is not None}


# Bad input -------------------------------------------------------------------------------

def test_oci_manifest_bad_input_sends_nothing(registry, module_runner):
    # The validators have their own tables; this run shows the module stops before
    # the client exists, with nothing sent.
    args = manifest_args(registry, tag=None, digest="sha256:" + "A" * 64)

    result = module_runner.run("oci_manifest", args)

    assert result["rc"] == 1
    assert result["failed"] is True
    assert result["msg"].startswith("digest 'sha256:AAAA")
    assert "lowercase hex" in result["msg"]
    assert result["requests"] == NO_REQUESTS
    assert result["actions"] == []
    assert registry.requests == []


# Resolve and delete ----------------------------------------------------------------------

def test_oci_manifest_delete_404_unchanged(registry, module_runner):
    registry.script("HEAD", TAG_PATH, FOUND)
    registry.script("DELETE", DIGEST_PATH, oci_error(404, "MANIFEST_UNKNOWN", "manifest unknown"))

    result = module_runner.run("oci_manifest", manifest_args(registry))

    assert result["rc"] == 0
    assert result["changed"] is False
    assert result["digest"] == DIGEST
    assert result["actions"][-1] == "manifest %s was already deleted from team/app by another client" % DIGEST
    assert len(registry.seen("DELETE")) == 1
    assert result["requests"] == wire_stats(registry)


def test_oci_manifest_head_500_nothing_deleted(registry, module_runner):
    registry.script("HEAD", DIGEST_PATH, Reply(500, [("Content-Type", "text/plain")], "storage backend down"))

    result = module_runner.run("oci_manifest", manifest_args(registry, tag=None, digest=DIGEST))

    assert result["failed"] is True
    assert result["status"] == 500
    assert "failed to resolve manifest '%s' in team/app" % DIGEST in result["msg"]
    assert registry.seen("DELETE") == []
    assert result["requests"] == wire_stats(registry)


def test_oci_manifest_not_a_manifest_nothing_deleted(registry, module_runner):
    content_type = "application/octet-stream"
    headers = [("Docker-Content-Digest", DIGEST), ("Content-Type", content_type)]
    blob = b'{"architecture": "amd64", "os": "linux"}'
    registry.script("HEAD", DIGEST_PATH, Reply(200, headers, blob))
    registry.script("GET", DIGEST_PATH, Reply(200, headers, blob))

    result = module_runner.run("oci_manifest", manifest_args(registry, tag=None, digest=DIGEST))

    assert result["failed"] is True
    assert "is not a manifest (the registry reports the media type %r); nothing was deleted" % content_type \
        in result["msg"]
    assert registry.seen("DELETE") == []


def test_oci_manifest_delete_retried_404_changed(registry, module_runner):
    # The first DELETE went through, but its answer was a 503; the retry finds nothing.
    registry.script("HEAD", TAG_PATH, FOUND)
    registry.script("DELETE", DIGEST_PATH, Reply(503, [("Retry-After", "0")]),
                    oci_error(404, "MANIFEST_UNKNOWN", "manifest unknown"))

    result = module_runner.run("oci_manifest", manifest_args(registry))

    assert result["changed"] is True
    assert result["digest"] == DIGEST
    assert result["actions"][-1] == "deleted manifest %s from team/app" % DIGEST
    assert len(registry.seen("DELETE")) == 2
    assert result["requests"] == wire_stats(registry, retries=1)


@pytest.mark.parametrize("status", [301, 303, 307])
def test_oci_manifest_delete_redirect_not_followed(registry, module_runner, status):
    victim = "/v2/victim/manifests/sha256:" + "cd" * 32
    registry.script("HEAD", TAG_PATH, FOUND)
    registry.script("DELETE", DIGEST_PATH, Reply(status, [("Location", victim)]))
    registry.script("DELETE", victim, Reply(202))
    registry.script("GET", victim, FOUND)

    result = module_runner.run("oci_manifest", manifest_args(registry))

    assert result["failed"] is True
    assert result["status"] == status
    assert "with HTTP %d and a redirect to '%s'" % (status, victim) in result["msg"]
    assert [(request.method, request.path) for request in registry.requests] == [
        ("HEAD", TAG_PATH), ("DELETE", DIGEST_PATH),
    ]


# (case id, module options, start of msg)
NO_TRACEBACK = [
    ("timeout_nan", {"timeout": "nan"}, "timeout is nan: "),
    ("timeout_huge", {"timeout": 1e300}, "timeout is 1e+300: "),
    ("retry_max_time_negative", {"retry_max_time": -5}, "retry_max_time is -5.0: "),
    ("client_cert_missing", {"client_cert": "/nonexistent/client.pem"}, "client_cert /nonexistent/client.pem "),
]


@pytest.mark.parametrize("options, start", [case[1:] for case in NO_TRACEBACK], ids=[case[0] for case in NO_TRACEBACK])
def test_oci_manifest_bad_connection_option_fails(registry, module_runner, options, start):
    result = module_runner.run("oci_manifest", manifest_args(registry, **options))

    assert result["failed"] is True
    assert result["msg"].startswith(start)
    assert "Traceback" not in result["stderr"]
    assert result["requests"] == NO_REQUESTS
    assert registry.requests == []


def test_oci_manifest_token_with_newline_fails(registry, module_runner):
    token = "Leaked-Token-5150\r\nX-Injected: 1"
    registry.script("GET", TOKEN_PATH, Reply(200, [("Content-Type", "application/json")],
                                             '{"token": %s}' % json.dumps(token)))
    registry.script("HEAD", TAG_PATH, challenge('Bearer realm="%s"' % registry.url(TOKEN_PATH)))

    result = module_runner.run("oci_manifest", manifest_args(registry))

    assert result["failed"] is True
    assert result["msg"].startswith("the token service %s issued a token that is not a valid bearer token"
                                    % registry.url(TOKEN_PATH))
    assert "Leaked-Token-5150" not in repr(result)
    assert [request.method for request in registry.requests] == ["HEAD", "GET"]


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_oci_manifest_validate_certs_false_warns(tls_registry, module_runner):
    registry = tls_registry()
    registry.script("HEAD", TAG_PATH, FOUND)
    registry.script("DELETE", DIGEST_PATH, Reply(202))

    result = module_runner.run("oci_manifest", manifest_args(registry, plain_http=False, validate_certs=False))

    assert result["changed"] is True
    assert any(warning.startswith("validate_certs is false") for warning in warning_messages(result))
    assert "InsecureRequestWarning" not in result["stderr"]
    assert result["requests"] == wire_stats(registry)


def test_oci_manifest_private_ca_fails_clearly(tls_registry, module_runner):
    registry = tls_registry()

    result = module_runner.run("oci_manifest", manifest_args(registry, plain_http=False))

    assert result["failed"] is True
    assert "TLS certificate verification failed" in result["msg"]
    assert "Traceback" not in result["stderr"]
    assert result["requests"]["by_status"] == {"error": 1}


# Secrets -----------------------------------------------------------------------------------

PASSWORD = "pw-Quartz-7391"
TOKEN_PREFIX = "tok-Umber-5820"
ENCODED = base64.b64encode(("alice:" + PASSWORD).encode()).decode()


def echo_authorization(status):
    """Return a handler that responds with ``status`` and the request's Authorization in the body."""
    def handler(request):
        return Reply(status, [("Content-Type", "text/plain")],
                     "debug: got Authorization: %s" % request.header("Authorization"))
    return handler


def echo_password_service(request):
    username, _unused, password = base64.b64decode(request.header("Authorization")[6:]).decode().partition(":")
    return Reply(500, [("Content-Type", "text/plain")], "cannot log in %s with password %s" % (username, password))


def scenario_success(server):
    tokens, guard = token_auth(server, users={"alice": PASSWORD}, prefix=TOKEN_PREFIX)
    server.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    server.route("DELETE", DIGEST_PATH, guard.protect("team/app", "delete", Reply(202)))
    return tokens


def scenario_wrong_password(server):
    tokens, guard = token_auth(server, users={"alice": "another-password"}, prefix=TOKEN_PREFIX)
    server.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    return tokens


def scenario_missing_delete(server):
    tokens, guard = token_auth(server, users={"alice": PASSWORD}, prefix=TOKEN_PREFIX,
                               grant=lambda user, scope: {"pull"})
    server.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    server.route("DELETE", DIGEST_PATH, guard.protect("team/app", "delete", Reply(202)))
    return tokens


def scenario_deletion_disabled(server):
    tokens, guard = token_auth(server, users={"alice": PASSWORD}, prefix=TOKEN_PREFIX)
    server.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    server.route("DELETE", DIGEST_PATH, guard.protect(
        "team/app", "delete", oci_error(405, "UNSUPPORTED", "The operation is unsupported.")
    ))
    return tokens


def scenario_error_echoes_token(server):
    tokens, guard = token_auth(server, users={"alice": PASSWORD}, prefix=TOKEN_PREFIX)
    server.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    server.route("DELETE", DIGEST_PATH, guard.protect("team/app", "delete", echo_authorization(500)))
    return tokens


def scenario_error_echoes_basic(server):
    unauthorized = challenge('Basic realm="corp"')

    def handler(request):
        if request.header("Authorization") != basic_value("alice", PASSWORD):
            return unauthorized
        return echo_authorization(500)(request)

    server.route("HEAD", TAG_PATH, handler)
    return None


def scenario_token_service_echoes_password(server):
    tokens, guard = token_auth(server, users={"alice": PASSWORD}, prefix=TOKEN_PREFIX)
    server.route("GET", TOKEN_PATH, echo_password_service)
    server.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    return tokens


def scenario_retries_exhausted(server):
    tokens, guard = token_auth(server, users={"alice": PASSWORD}, prefix=TOKEN_PREFIX)
    server.route("HEAD", TAG_PATH, guard.protect("team/app", "pull", FOUND))
    server.route("DELETE", DIGEST_PATH, guard.protect(
        "team/app", "delete", Reply(503, [("Retry-After", "0"), ("Content-Type", "text/plain")], "busy")
    ))
    return tokens


# (case name, scenario, check mode, expected "failed")
SECRET_SCENARIOS = [
    ("success", scenario_success, False, False),
    ("check_mode", scenario_success, True, False),
    ("wrong_password", scenario_wrong_password, False, True),
    ("missing_delete_permission", scenario_missing_delete, False, True),
    ("deletion_disabled", scenario_deletion_disabled, False, True),
    ("error_body_echoes_token", scenario_error_echoes_token, False, True),
    ("error_body_echoes_basic_credentials", scenario_error_echoes_basic, False, True),
    ("token_service_echoes_password", scenario_token_service_echoes_password, False, True),
    ("retries_exhausted", scenario_retries_exhausted, False, True),
]


def assert_no_secret(name, text):
    assert PASSWORD not in text, name
    assert TOKEN_PREFIX not in text, name
    assert ENCODED not in text, name


def test_oci_manifest_secrets_never_in_output(fake_servers, module_runner):
    # The scenarios run side by side, one fake registry each, to keep the suite fast.
    running = []
    for name, scenario, check_mode, failed in SECRET_SCENARIOS:
        server = fake_servers()
        tokens = scenario(server)
        args = manifest_args(server, username="alice", password=PASSWORD)
        running.append((name, server, tokens, failed, module_runner.start("oci_manifest", args, check_mode)))

    for name, server, tokens, failed, module in running:
        result = module.result()
        assert result.get("failed", False) is failed, name
        # The secrets did go over the wire, so the output had a chance to leak them.
        sent = [request.header("Authorization") or "" for request in server.requests]
        assert any(ENCODED in value for value in sent), name
        if tokens is not None and tokens.issued:
            assert any(TOKEN_PREFIX in value for value in sent), name
        assert_no_secret(name, result.get("msg", ""))
        assert_no_secret(name, " ".join(warning_messages(result)))
        assert_no_secret(name, " ".join(result["actions"]))
        assert_no_secret(name, repr(result))


PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Delete by tag with a password and a token
      oci.registry.oci_manifest:
        registry: "{registry}"
        plain_http: true
        repository: team/app
        tag: v1
        state: absent
        shared_tags: ignore
        referrers: ignore
        username: alice
        password: "{password}"
      register: deleted

    - name: Show the result
      ansible.builtin.debug:
        var: deleted
"""


def test_oci_manifest_secrets_playbook_output(registry, tmp_path):
    tokens = scenario_success(registry)
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(PLAYBOOK.format(registry=registry.host, password=PASSWORD))
    environment = module_environment()
    environment.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS_PATH,
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_NOCOLOR": "true",
    })
    playbook_command = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

    completed = subprocess.run(
        [playbook_command, "-vvv", "-i", "localhost,", "-c", "local",
         "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)],
        capture_output=True, text=True, check=False, env=environment, cwd=str(tmp_path), timeout=120,
    )

    assert completed.returncode == 0, completed.stdout[-2000:]
    assert '"changed": true' in completed.stdout
    assert len(tokens.issued) == 1
    assert_no_secret("stdout", completed.stdout)
    assert_no_secret("stderr", completed.stderr)
