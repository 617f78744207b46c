"""Tests of the credential lookup in auth files and credential helpers.

Files live in a temporary home directory. Credential helpers are a small Python
script, installed on a temporary PATH as ``docker-credential-<name>``, that replies
from a JSON table next to it and logs every call.
"""

import base64
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.oci.registry.plugins.module_utils import _credentials
from ansible_collections.oci.registry.plugins.module_utils._client import ClientConfig, RegistryClient
from ansible_collections.oci.registry.plugins.module_utils._credentials import (
    DOCKER_HUB_KEY,
    Credentials,
    auth_file_paths,
    find_credentials,
    normalize_registry_key,
)
from ansible_collections.oci.registry.plugins.module_utils._module import RegistryModule

REGISTRY = "127.0.0.1:5000"
BLOB_DIGEST = "sha256:" + "a" * 64

# The fake helper replies from <program>.json, which maps a server URL to
# {"Username", "Secret"}, to {"exit": N, "stdout": ..., "stderr": ...} for a failure,
# or to {"sleep": seconds}. A server URL missing from the table gets docker's
# "credentials not found" message and exit code 1.
HELPER_SCRIPT = """#!%(python)s
import json, os, sys, time
program = os.path.basename(sys.argv[0])
helper_dir = os.path.dirname(os.path.abspath(__file__))
server_url = sys.stdin.read()
with open(os.path.join(helper_dir, "calls.log"), "a") as log:
    log.write("%%s %%s %%s\\n" %% (program, " ".join(sys.argv[1:]), server_url))
with open(os.path.join(helper_dir, program + ".json")) as table:
    entry = json.load(table).get(server_url)
if entry is None:
    print("credentials not found in native keychain")
    sys.exit(1)
if "sleep" in entry:
    time.sleep(entry["sleep"])
if "exit" in entry:
    sys.stdout.write(entry.get("stdout", ""))
    sys.stderr.write(entry.get("stderr", ""))
    sys.exit(entry["exit"])
print(json.dumps(dict(entry, ServerURL=server_url)))
"""


def encode_auth(text):
    return base64.b64encode(text.encode()).decode()


def write_json(path, document):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def auths_file(path, key, **entry):
    return write_json(path, {"auths": {key: entry}})


@pytest.fixture
def home(tmp_path):
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@pytest.fixture
def helper_dir(tmp_path):
    directory = tmp_path / "bin"
    directory.mkdir()
    return directory


@pytest.fixture
def env(helper_dir):
    """An environment with only PATH, pointing at the fake helpers and /usr/bin."""
    return {"PATH": "%s%s%s" % (helper_dir, os.pathsep, "/usr/bin")}


@pytest.fixture
def install_helper(helper_dir):
    """``install_helper(name, table)`` writes docker-credential-<name> replying from ``table``."""

    def install(name, table):
        program = helper_dir / ("docker-credential-" + name)
        program.write_text(HELPER_SCRIPT % {"python": sys.executable})
        program.chmod(0o755)
        write_json(helper_dir / (program.name + ".json"), table)
        return program

    return install


@pytest.fixture
def helper_calls(helper_dir):
    """Return the logged helper calls as ``"<program> <arguments> <server URL>"`` lines."""

    def read():
        log = helper_dir / "calls.log"
        return log.read_text().splitlines() if log.exists() else []

    return read


@pytest.fixture
def warnings():
    return []


@pytest.fixture
def lookup(env, home, warnings):
    """``lookup(registry, **options)``: find_credentials with the test's env, home and warnings."""

    def run(registry=REGISTRY, **options):
        options.setdefault("env", env)
        options.setdefault("home", str(home))
        return find_credentials(registry, warn=warnings.append, **options)

    return run


# Files and their order -------------------------------------------------------------------

def test_auth_file_paths_all_sources(tmp_path):
    env = {
        "REGISTRY_AUTH_FILE": "/auth/file.json",
        "XDG_RUNTIME_DIR": "/run/user/1000",
        "XDG_CONFIG_HOME": "/xdg/config",
        "DOCKER_CONFIG": "/docker/config",
    }
    assert auth_file_paths("/explicit.json", env, "/home/user") == [
        "/explicit.json",
        "/auth/file.json",
        "/run/user/1000/containers/auth.json",
        "/xdg/config/containers/auth.json",
        "/docker/config/config.json",
    ]


def test_auth_file_paths_home_defaults():
    assert auth_file_paths(None, {}, "/home/user") == [
        "/home/user/.config/containers/auth.json",
        "/home/user/.docker/config.json",
    ]


def test_auth_file_paths_empty_variables_unset():
    env = {"REGISTRY_AUTH_FILE": "", "XDG_RUNTIME_DIR": "", "XDG_CONFIG_HOME": "", "DOCKER_CONFIG": ""}
    assert auth_file_paths("", env, "/home/user") == [
        "/home/user/.config/containers/auth.json",
        "/home/user/.docker/config.json",
    ]


def test_auth_file_paths_duplicates_removed():
    env = {"DOCKER_CONFIG": "/docker"}
    assert auth_file_paths("/docker/config.json", env, "/home/user") == [
        "/docker/config.json",
        "/home/user/.config/containers/auth.json",
    ]


# Each source in lookup order: (name, environment variable or None, file below tmp_path).
SOURCES = [
    ("config_path", None, "explicit/auth.json"),
    ("REGISTRY_AUTH_FILE", "REGISTRY_AUTH_FILE", "registry-auth-file.json"),
    ("XDG_RUNTIME_DIR", "XDG_RUNTIME_DIR", "run/containers/auth.json"),
    ("XDG_CONFIG_HOME", "XDG_CONFIG_HOME", "xdg-config/containers/auth.json"),
    ("DOCKER_CONFIG", "DOCKER_CONFIG", "docker-config/config.json"),
]
ENV_VALUES = {
    "REGISTRY_AUTH_FILE": "registry-auth-file.json",
    "XDG_RUNTIME_DIR": "run",
    "XDG_CONFIG_HOME": "xdg-config",
    "DOCKER_CONFIG": "docker-config",
}


@pytest.mark.parametrize("first", range(len(SOURCES)), ids=[source[0] for source in SOURCES])
def test_find_credentials_file_order(tmp_path, env, lookup, warnings, first):
    # Files before ``first`` exist but only hold another registry.
    for name, _unused, relative in SOURCES[:first]:
        auths_file(tmp_path / relative, "other.example.com", auth=encode_auth("other-%s:secret" % name))
    for name, _unused, relative in SOURCES[first:]:
        auths_file(tmp_path / relative, REGISTRY, auth=encode_auth("user-%s:secret" % name))
    for variable, value in ENV_VALUES.items():
        env[variable] = str(tmp_path / value)

    found = lookup(config_path=str(tmp_path / SOURCES[0][2]))

    expected_name, _unused, expected_file = SOURCES[first]
    assert found == Credentials("user-%s" % expected_name, "secret", None, str(tmp_path / expected_file))
    assert warnings == []


@pytest.mark.parametrize("source", SOURCES[1:], ids=[source[0] for source in SOURCES[1:]])
def test_find_credentials_each_variable_alone(tmp_path, env, lookup, source):
    _unused, variable, relative = source
    path = auths_file(tmp_path / relative, REGISTRY, auth=encode_auth("alice:secret"))
    env[variable] = str(tmp_path / ENV_VALUES[variable])

    assert lookup() == Credentials("alice", "secret", None, str(path))


def test_find_credentials_config_home_default(home, lookup):
    path = auths_file(home / ".config" / "containers" / "auth.json", REGISTRY, auth=encode_auth("alice:secret"))

    assert lookup() == Credentials("alice", "secret", None, str(path))


def test_find_credentials_docker_config_default(home, lookup):
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:secret"))

    assert lookup() == Credentials("alice", "secret", None, str(path))


def test_find_credentials_docker_config_replaces_default(tmp_path, home, env, lookup):
    auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("home-user:secret"))
    env["DOCKER_CONFIG"] = str(tmp_path / "elsewhere")

    assert lookup() is None


def test_find_credentials_missing_files_silent(lookup, warnings):
    assert lookup() is None
    assert warnings == []


def test_find_credentials_missing_config_path_warns(tmp_path, home, lookup, warnings):
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:secret"))
    missing = str(tmp_path / "missing.json")

    assert lookup(config_path=missing) == Credentials("alice", "secret", None, str(path))
    assert warnings == [
        "config_path %s does not exist; looking for credentials in the default files." % missing
    ]


def test_find_credentials_invalid_json_warns(tmp_path, home, env, lookup, warnings):
    broken = tmp_path / "broken.json"
    broken.write_text('{"auths": {')
    env["REGISTRY_AUTH_FILE"] = str(broken)
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:secret"))

    assert lookup() == Credentials("alice", "secret", None, str(path))
    assert warnings == [
        "Skipping the auth file %s: it is not valid JSON (Expecting property name enclosed in double "
        "quotes at line 1 column 12)." % broken
    ]


def test_find_credentials_not_object_warns(tmp_path, env, lookup, warnings):
    path = write_json(tmp_path / "list.json", ["auths"])
    env["REGISTRY_AUTH_FILE"] = str(path)

    assert lookup() is None
    assert warnings == ["Skipping the auth file %s: expected a JSON object at the top level." % path]


def test_find_credentials_unreadable_file_warns(tmp_path, env, lookup, warnings):
    directory = tmp_path / "auth.json"
    directory.mkdir()
    env["REGISTRY_AUTH_FILE"] = str(directory)

    assert lookup() is None
    assert warnings == ["Skipping the auth file %s: it is not a regular file." % directory]


@pytest.mark.parametrize("special", ["fifo", "device"])
def test_find_credentials_special_file_skipped(tmp_path, home, lookup, warnings, special):
    # Reading a FIFO would wait for a writer, and /dev/zero would fill the memory.
    if special == "fifo":
        config_path = str(tmp_path / "pipe")
        os.mkfifo(config_path)
    else:
        config_path = "/dev/zero"
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:secret"))

    assert lookup(config_path=config_path) == Credentials("alice", "secret", None, str(path))
    assert warnings == ["Skipping the auth file %s: it is not a regular file." % config_path]


def test_find_credentials_large_file_skipped(tmp_path, env, lookup, warnings):
    large = tmp_path / "large.json"
    large.write_bytes(b" " * _credentials.AUTH_FILE_MAX_SIZE + b"{}")
    env["REGISTRY_AUTH_FILE"] = str(large)

    assert lookup() is None
    assert warnings == ["Skipping the auth file %s: it is larger than 1048576 bytes." % large]


def test_find_credentials_file_at_size_limit_read(tmp_path, env, lookup, warnings):
    document = json.dumps({"auths": {REGISTRY: {"auth": encode_auth("alice:secret")}}}).encode()
    limit = tmp_path / "limit.json"
    limit.write_bytes(document + b" " * (_credentials.AUTH_FILE_MAX_SIZE - len(document)))
    env["REGISTRY_AUTH_FILE"] = str(limit)

    assert lookup() == Credentials("alice", "secret", None, str(limit))
    assert warnings == []


def test_find_credentials_empty_entry_continues(tmp_path, home, env, lookup, warnings):
    empty = auths_file(tmp_path / "empty.json", REGISTRY)
    env["REGISTRY_AUTH_FILE"] = str(empty)
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:secret"))

    assert lookup() == Credentials("alice", "secret", None, str(path))
    assert warnings == []


def test_find_credentials_user_without_password_continues(tmp_path, home, env, lookup):
    partial = auths_file(tmp_path / "partial.json", REGISTRY, auth=encode_auth("bob:"))
    env["REGISTRY_AUTH_FILE"] = str(partial)
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:secret"))

    assert lookup() == Credentials("alice", "secret", None, str(path))


# Entries in auths ------------------------------------------------------------------------

def test_find_credentials_auth_split_first_colon(home, lookup):
    auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:pa:ss:word"))

    found = lookup()

    assert found.username == "alice"
    assert found.password == "pa:ss:word"


def test_find_credentials_auth_without_padding(home, lookup):
    auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:secret").rstrip("="))

    assert lookup().password == "secret"


def test_find_credentials_username_password_fields(home, lookup):
    path = auths_file(home / ".docker" / "config.json", REGISTRY, username="alice", password="secret")

    assert lookup() == Credentials("alice", "secret", None, str(path))


def test_find_credentials_invalid_auth_warns(home, lookup, warnings):
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth="not base64!", username="alice",
                      password="secret")

    assert lookup() == Credentials("alice", "secret", None, str(path))
    assert warnings == [
        "Ignoring the 'auth' field of the auths entry %r in %s: it is not the base64 encoding of "
        "'username:password'." % (REGISTRY, path)
    ]


def test_find_credentials_identity_token(home, lookup):
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:"),
                      identitytoken="refresh-123")

    assert lookup() == Credentials("alice", None, "refresh-123", str(path))


def test_find_credentials_identity_token_without_user(home, lookup):
    path = auths_file(home / ".docker" / "config.json", REGISTRY, identitytoken="refresh-123")

    assert lookup() == Credentials(None, None, "refresh-123", str(path))


# Key normalisation -----------------------------------------------------------------------

@pytest.mark.parametrize("key, expected", [
    ("127.0.0.1:5000", "127.0.0.1:5000"),
    ("https://127.0.0.1:5000", "127.0.0.1:5000"),
    ("http://127.0.0.1:5000/", "127.0.0.1:5000"),
    ("https://127.0.0.1:5000/v1/", "127.0.0.1:5000"),
    ("127.0.0.1:5000/v2", "127.0.0.1:5000"),
    ("Registry.Example.COM:8443", "registry.example.com:8443"),
    ("[::1]:5000", "[::1]:5000"),
    ("docker.io", DOCKER_HUB_KEY),
    ("index.docker.io", DOCKER_HUB_KEY),
    ("registry-1.docker.io", DOCKER_HUB_KEY),
    ("https://index.docker.io/v1/", DOCKER_HUB_KEY),
    ("quay.io/team", None),
    ("https://", None),
    (42, None),
])
def test_normalize_registry_key_cases(key, expected):
    assert normalize_registry_key(key) == expected


@pytest.mark.parametrize("key", [
    "https://127.0.0.1:5000",
    "http://127.0.0.1:5000/",
    "127.0.0.1:5000/v1/",
])
def test_find_credentials_key_forms_match(home, lookup, key):
    auths_file(home / ".docker" / "config.json", key, auth=encode_auth("alice:secret"))

    assert lookup().username == "alice"


def test_find_credentials_host_case_ignored(home, lookup):
    auths_file(home / ".docker" / "config.json", "REGISTRY.example.com", auth=encode_auth("alice:secret"))

    assert lookup("registry.EXAMPLE.com").username == "alice"


def test_find_credentials_port_kept(home, lookup):
    auths_file(home / ".docker" / "config.json", "127.0.0.1:5001", auth=encode_auth("alice:secret"))

    assert lookup() is None


def test_find_credentials_namespace_key_ignored(home, lookup):
    auths_file(home / ".docker" / "config.json", "127.0.0.1:5000/team", auth=encode_auth("alice:secret"))

    assert lookup() is None


@pytest.mark.parametrize("registry", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_find_credentials_docker_hub_aliases(home, lookup, registry):
    auths_file(home / ".docker" / "config.json", DOCKER_HUB_KEY, auth=encode_auth("alice:secret"))

    assert lookup(registry).username == "alice"


def test_find_credentials_later_key_form_used(home, lookup):
    path = write_json(home / ".docker" / "config.json", {"auths": {
        "https://127.0.0.1:5000": {},
        "127.0.0.1:5000": {"auth": encode_auth("alice:secret")},
    }})

    assert lookup() == Credentials("alice", "secret", None, str(path))


# Credential helpers ----------------------------------------------------------------------

def test_find_credentials_cred_helper(home, lookup, install_helper, helper_calls):
    install_helper("fake", {REGISTRY: {"Username": "alice", "Secret": "secret"}})
    path = write_json(home / ".docker" / "config.json", {"credHelpers": {REGISTRY: "fake"}})

    found = lookup()

    assert found == Credentials("alice", "secret", None, "docker-credential-fake (credHelpers in %s)" % path)
    assert helper_calls() == ["docker-credential-fake get %s" % REGISTRY]


def test_find_credentials_helper_token_user(home, lookup, install_helper):
    install_helper("fake", {REGISTRY: {"Username": "<token>", "Secret": "refresh-123"}})
    write_json(home / ".docker" / "config.json", {"credsStore": "fake"})

    found = lookup()

    assert found.username is None
    assert found.password is None
    assert found.identity_token == "refresh-123"


def test_find_credentials_auths_before_helpers(home, lookup, install_helper, helper_calls):
    install_helper("fake", {REGISTRY: {"Username": "helper-user", "Secret": "secret"}})
    write_json(home / ".docker" / "config.json", {
        "auths": {REGISTRY: {"auth": encode_auth("alice:secret")}},
        "credHelpers": {REGISTRY: "fake"},
    })

    assert lookup().username == "alice"
    assert helper_calls() == []


def test_find_credentials_cred_helpers_before_store(home, lookup, install_helper, helper_calls):
    install_helper("fake", {REGISTRY: {"Username": "helper-user", "Secret": "secret"}})
    install_helper("store", {REGISTRY: {"Username": "store-user", "Secret": "secret"}})
    write_json(home / ".docker" / "config.json", {
        "auths": {REGISTRY: {}},
        "credHelpers": {"https://127.0.0.1:5000/": "fake"},
        "credsStore": "store",
    })

    assert lookup().username == "helper-user"
    assert helper_calls() == ["docker-credential-fake get %s" % REGISTRY]


def test_find_credentials_helper_not_found_continues(home, lookup, warnings, install_helper, helper_calls):
    install_helper("fake", {})
    install_helper("store", {REGISTRY: {"Username": "store-user", "Secret": "secret"}})
    path = write_json(home / ".docker" / "config.json", {"credHelpers": {REGISTRY: "fake"}, "credsStore": "store"})

    found = lookup()

    assert found == Credentials("store-user", "secret", None, "docker-credential-store (credsStore in %s)" % path)
    assert helper_calls() == ["docker-credential-fake get %s" % REGISTRY, "docker-credential-store get %s" % REGISTRY]
    assert warnings == []


def test_find_credentials_helper_empty_secret_continues(tmp_path, home, env, lookup, install_helper):
    install_helper("fake", {REGISTRY: {"Username": "alice", "Secret": ""}})
    env["REGISTRY_AUTH_FILE"] = str(write_json(tmp_path / "auth.json", {"credsStore": "fake"}))
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("bob:secret"))

    assert lookup() == Credentials("bob", "secret", None, str(path))


def test_find_credentials_helper_failure_warns(tmp_path, home, env, lookup, warnings, install_helper):
    install_helper("fake", {REGISTRY: {"exit": 3, "stdout": "leaked-secret", "stderr": "leaked-secret"}})
    env["REGISTRY_AUTH_FILE"] = str(write_json(tmp_path / "auth.json", {"credsStore": "fake"}))
    path = auths_file(home / ".docker" / "config.json", REGISTRY, auth=encode_auth("bob:secret"))

    assert lookup() == Credentials("bob", "secret", None, str(path))
    assert warnings == [
        "Skipping credential helper docker-credential-fake for %s: it exited with code 3. Run "
        "'echo %s | docker-credential-fake get' to see its message." % (REGISTRY, REGISTRY)
    ]


def test_find_credentials_helper_output_not_json(home, lookup, warnings, install_helper):
    install_helper("fake", {REGISTRY: {"exit": 0, "stdout": "Username=alice"}})
    write_json(home / ".docker" / "config.json", {"credsStore": "fake"})

    assert lookup() is None
    assert warnings == [
        "Skipping credential helper docker-credential-fake for %s: its output is not a JSON object." % REGISTRY
    ]


def test_find_credentials_helper_missing_warns(home, lookup, warnings):
    path = write_json(home / ".docker" / "config.json", {"credsStore": "absent"})

    assert lookup() is None
    assert warnings == [
        "Skipping credential helper docker-credential-absent (credsStore in %s): it cannot be run "
        "(No such file or directory). Install it on the PATH or remove it from %s." % (path, path)
    ]


def test_find_credentials_helper_timeout_warns(home, lookup, warnings, install_helper):
    install_helper("fake", {REGISTRY: {"sleep": 10, "exit": 0}})
    path = write_json(home / ".docker" / "config.json", {"credsStore": "fake"})

    assert lookup(helper_timeout=0.5) is None
    assert warnings == [
        "Skipping credential helper docker-credential-fake (credsStore in %s): it did not finish "
        "within 0.5 seconds." % path
    ]


def test_find_credentials_helper_name_checked(home, lookup, warnings, helper_calls):
    path = write_json(home / ".docker" / "config.json", {"credsStore": "../../bin/sh"})

    assert lookup() is None
    assert warnings == [
        "Ignoring credsStore in %s: '../../bin/sh' is not a credential helper name (expected "
        "letters, digits, '.', '_' and '-', as in 'pass' for docker-credential-pass)." % path
    ]


def test_find_credentials_helper_runs_once(tmp_path, home, env, lookup, install_helper, helper_calls):
    install_helper("fake", {})
    env["REGISTRY_AUTH_FILE"] = str(write_json(tmp_path / "auth.json", {"credsStore": "fake"}))
    write_json(home / ".docker" / "config.json", {"credsStore": "fake"})

    assert lookup() is None
    assert helper_calls() == ["docker-credential-fake get %s" % REGISTRY]


def test_find_credentials_docker_hub_helper_url(home, lookup, install_helper, helper_calls):
    install_helper("fake", {DOCKER_HUB_KEY: {"Username": "alice", "Secret": "secret"}})
    write_json(home / ".docker" / "config.json", {"credHelpers": {"docker.io": "fake"}})

    assert lookup("registry-1.docker.io").username == "alice"
    assert helper_calls() == ["docker-credential-fake get %s" % DOCKER_HUB_KEY]


def test_find_credentials_injected_runner(home, warnings):
    calls = []

    def run_helper(program, server_url, env, timeout):
        calls.append((program, server_url, env, timeout))
        return _credentials.HelperResult(0, '{"Username": "alice", "Secret": "secret"}', "")

    write_json(home / ".docker" / "config.json", {"credsStore": "fake"})

    found = find_credentials(REGISTRY, env={"PATH": "/nowhere"}, home=str(home), warn=warnings.append,
                             run_helper=run_helper, helper_timeout=7)

    assert found.username == "alice"
    assert calls == [("docker-credential-fake", REGISTRY, {"PATH": "/nowhere"}, 7)]


# RegistryModule.connect ------------------------------------------------------------------

@pytest.fixture
def module_environment(monkeypatch, tmp_path, home):
    """os.environ with HOME in the temporary home and no other auth file variables."""
    monkeypatch.setenv("HOME", str(home))
    for variable in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    return home


def connect(args):
    with patch_module_args(dict(args, registry=REGISTRY)):
        registry_module = RegistryModule(argument_spec={})
    registry_module.connect()
    return registry_module


def test_connect_explicit_params_win(module_environment):
    auths_file(module_environment / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:from-file"))

    registry_module = connect({"username": "bob", "password": "explicit"})

    assert registry_module.client.config.username == "bob"
    assert registry_module.client.config.password == "explicit"
    assert registry_module.actions == []


def test_connect_found_password_masked(module_environment):
    path = auths_file(module_environment / ".docker" / "config.json", REGISTRY, auth=encode_auth("alice:from-file"))

    registry_module = connect({})

    assert registry_module.client.config.username == "alice"
    assert registry_module.client.config.password == "from-file"
    assert "from-file" in registry_module.module.no_log_values
    assert registry_module.actions == ["credentials for %s from %s" % (REGISTRY, path)]


def test_connect_found_identity_token(module_environment, tmp_path):
    path = auths_file(tmp_path / "auth.json", REGISTRY, auth=encode_auth("alice:"), identitytoken="refresh-123")

    registry_module = connect({"config_path": str(path)})

    assert registry_module.client.config.identity_token == "refresh-123"
    assert registry_module.client.config.password is None
    assert registry_module.client.config.has_credentials is True
    assert "refresh-123" in registry_module.module.no_log_values


# Identity token exchange against a fake registry and token service -----------------------

class FakeRegistryHandler(BaseHTTPRequestHandler):
    """A registry whose blob HEAD needs a Bearer token from /token on the same server."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - name fixed by the base class
        pass

    def do_HEAD(self):
        self.server.requests.append(("HEAD", self.path, self.headers.get("Authorization"), None))
        if self.headers.get("Authorization") == "Bearer issued-token":
            self.send_empty(200)
            return
        realm = "http://%s:%d/token" % self.server.server_address
        self.send_empty(401, {
            "WWW-Authenticate": 'Bearer realm="%s",service="fake-registry",scope="repository:app:pull"' % realm
        })

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        self.server.requests.append(("POST", self.path, self.headers.get("Authorization"), parse_qs(body)))
        if self.server.post_status != 200:
            self.send_empty(self.server.post_status)
            return
        self.send_token({"access_token": "issued-token", "expires_in": 300})

    def do_GET(self):
        query = parse_qs(urlsplit(self.path).query)
        self.server.requests.append(("GET", urlsplit(self.path).path, self.headers.get("Authorization"), query))
        self.send_token({"token": "issued-token", "expires_in": 300})

    def send_empty(self, status, headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send_token(self, document):
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake_registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistryHandler)
    server.daemon_threads = True
    server.requests = []
    server.post_status = 200
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def identity_token_client(server, username=None):
    config = ClientConfig(
        registry="127.0.0.1:%d" % server.server_address[1], plain_http=True,
        username=username, identity_token="refresh-123", retries=0,
    )
    return RegistryClient(config)


def token_requests(server):
    return [request for request in server.requests if request[1] == "/token"]


def test_identity_token_oauth_post(fake_registry):
    client = identity_token_client(fake_registry)

    assert client.blob_exists("app", BLOB_DIGEST) is True
    assert token_requests(fake_registry) == [("POST", "/token", None, {
        "grant_type": ["refresh_token"],
        "refresh_token": ["refresh-123"],
        "client_id": ["oci.registry"],
        "scope": ["repository:app:pull"],
        "service": ["fake-registry"],
    })]
    assert client.stats.token == 1
    assert fake_registry.requests[-1][2] == "Bearer issued-token"
    client.close()


@pytest.mark.parametrize("status", [404, 405])
def test_identity_token_get_fallback(fake_registry, status):
    fake_registry.post_status = status
    client = identity_token_client(fake_registry, username="alice")

    assert client.blob_exists("app", BLOB_DIGEST) is True
    assert [request[0] for request in token_requests(fake_registry)] == ["POST", "GET"]
    assert token_requests(fake_registry)[1][2] == "Basic " + encode_auth("alice:refresh-123")
    assert token_requests(fake_registry)[1][3] == {"service": ["fake-registry"], "scope": ["repository:app:pull"]}
    assert client.stats.token == 2
    client.close()


def test_identity_token_get_fallback_without_user(fake_registry):
    fake_registry.post_status = 404
    client = identity_token_client(fake_registry)

    assert client.blob_exists("app", BLOB_DIGEST) is True
    assert token_requests(fake_registry)[1][2] == "Basic " + encode_auth("<token>:refresh-123")
    client.close()
