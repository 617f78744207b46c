"""Make the collection importable as ``ansible_collections.oci.registry`` in unit tests.

``make collection`` links build/collections/ansible_collections/oci/registry to the
repository root. This file puts build/collections on sys.path, so plain ``pytest
tests/unit`` works without PYTHONPATH.
"""

import os
import sys

COLLECTIONS_PATH = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "build", "collections"
)

if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)


# Fake registry fixtures (see fakeregistry.py) -------------------------------------------

import datetime  # noqa: E402
import ipaddress  # noqa: E402
import json  # noqa: E402
import ssl  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402

UNIT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(UNIT_DIR))
if UNIT_DIR not in sys.path:
    sys.path.insert(0, UNIT_DIR)

from fakeregistry import FakeServer  # noqa: E402
from ansible_collections.oci.registry.plugins.module_utils._client import (  # noqa: E402
    ClientConfig,
    RegistryClient,
)

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class FakeTime(object):
    """A clock and a sleep for the client: sleeping records the delay and moves the clock."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch):
    """Keep proxy variables of the machine away from requests to 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def fake_servers():
    """Return a factory of started FakeServers; all are stopped after the test."""
    servers = []

    def start(ssl_context=None):
        server = FakeServer(ssl_context)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        assert server.handler_errors == []


@pytest.fixture
def registry(fake_servers):
    """One plain-HTTP FakeServer that plays the registry (and its token service)."""
    return fake_servers()


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def client_warnings():
    return []


@pytest.fixture
def make_client(fake_time, client_warnings):
    """Return a factory of RegistryClients for a FakeServer, with injected clock and sleep."""
    clients = []

    def make(server, **options):
        options.setdefault("plain_http", server.scheme == "http")
        options.setdefault("timeout", 5.0)
        config = ClientConfig(registry=server.host, **options)
        client = RegistryClient(config, warn=client_warnings.append, sleep=fake_time.sleep, clock=fake_time.clock)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def module_environment():
    environment = {
        name: value for name, value in os.environ.items()
        if name.lower() not in PROXY_VARIABLES
    }
    environment["PYTHONPATH"] = COLLECTIONS_PATH
    environment["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_PATH
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


class ModuleRunner(object):
    """Runs modules of the collection as ``python -m <module> ARGSFILE``, as Ansible's
    debugging entry point does, and parses the JSON result.

    ``start`` returns at once so several modules can run side by side; ``run`` waits.
    Results get ``rc`` (the exit code) and ``stderr`` added.
    """

    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.processes = []

    def start(self, name, args, check_mode=False, diff=False):
        self.count += 1
        args_file = self.directory / ("module-args-%d.json" % self.count)
        module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
        process = subprocess.Popen(
            [sys.executable, "-m", "ansible_collections.oci.registry.plugins.modules." + name, str(args_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=module_environment(), cwd=REPO_ROOT,
        )
        self.processes.append(process)
        return RunningModule(process)

    def stop(self):
        """End the module processes a failed test left running."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.communicate()

    def run(self, name, args, check_mode=False, diff=False):
        return self.start(name, args, check_mode, diff).result()


class RunningModule(object):
    def __init__(self, process):
        self.process = process

    def result(self):
        stdout, stderr = self.process.communicate(timeout=60)
        try:
            result = json.loads(stdout)
        except ValueError:
            raise AssertionError("the module printed no JSON result.\nstdout:\n%s\nstderr:\n%s" % (stdout, stderr))
        result["rc"] = self.process.returncode
        result["stderr"] = stderr
        return result


def warning_messages(result):
    """Return the warning texts of a module result (ansible-core 2.19 sends dicts)."""
    return [warning["event"]["msg"] if isinstance(warning, dict) else warning
            for warning in result.get("warnings", [])]


@pytest.fixture
def module_runner(tmp_path):
    runner = ModuleRunner(tmp_path)
    yield runner
    runner.stop()


# TLS material -----------------------------------------------------------------------------

def _write_key(path, key):
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ))


def _certificate(subject_name, issuer_name, public_key, signing_key, is_ca, extensions=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """Generate a private CA, a server certificate for 127.0.0.1 and a client certificate.

    Returns a dict of PEM file paths: ca, server_cert, server_key, client_cert, client_key.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oci.registry test CA")])
    ca_cert = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, True, [
        x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                      data_encipherment=False, key_agreement=False, key_cert_sign=True,
                      crl_sign=True, encipher_only=False, decipher_only=False),
        x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
    ])
    files = {"ca": directory / "ca.pem"}
    files["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    leaves = {
        "server": (
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            ExtendedKeyUsageOID.SERVER_AUTH,
        ),
        "client": (
            x509.SubjectAlternativeName([x509.DNSName("client.test")]),
            ExtendedKeyUsageOID.CLIENT_AUTH,
        ),
    }
    for role, (alternative_names, usage) in leaves.items():
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oci.registry test %s" % role)])
        cert = _certificate(name, ca_name, key.public_key(), ca_key, False, [
            alternative_names,
            x509.ExtendedKeyUsage([usage]),
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
        ])
        files["%s_cert" % role] = directory / ("%s.pem" % role)
        files["%s_cert" % role].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        files["%s_key" % role] = directory / ("%s.key" % role)
        _write_key(files["%s_key" % role], key)
    return {role: str(path) for role, path in files.items()}


@pytest.fixture
def tls_registry(fake_servers, tls_files):
    """Return a factory of https FakeServers; ``require_client_cert`` turns on mutual TLS."""
    def start(require_client_cert=False):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls_files["server_cert"], tls_files["server_key"])
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(tls_files["ca"])
        return fake_servers(context)

    return start
