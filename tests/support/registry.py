"""A real CNCF Distribution registry on loopback, with its auth front end and proxy.

``RegistryStack(mode, workdir)`` starts ``/usr/bin/docker-registry`` (Debian's
Distribution 2.8.2) with filesystem storage in ``workdir`` and one of three
auth modes:

=========  ==========================================================
mode       how clients authenticate
=========  ==========================================================
token      Bearer tokens from ``tests.support.tokenservice``
basic      HTTP Basic against a bcrypt htpasswd file
anonymous  no auth at all
=========  ==========================================================

In token and basic mode the users are ``admin`` and ``reader``. The token
service grants admin pull, push and delete and grants reader pull only. Basic
mode cannot tell them apart, because Distribution's htpasswd auth checks the
password and authorizes nothing, so reader may push and delete there too.
Clients talk to ``address``, a counting proxy that forwards ``/token`` to the
token service and the rest to the registry.

The registry runs without ``storage.cache``, so no in-memory blob descriptor
cache can serve a deleted blob. The smoke tests check that deletes show at once.
"""

import http.client
import json
import os
import secrets
import socket
import ssl
import subprocess
import time

from tests.support import tokenservice
from tests.support.proxy import CountingProxy
from tests.support.tls import write_tls_files

REGISTRY_BINARY = "/usr/bin/docker-registry"
HTPASSWD_BINARY = "/usr/bin/htpasswd"
MODES = ("token", "basic", "anonymous")
STARTUP_TIMEOUT = 15.0
# The registry reads its port from the config file, so a port probed free can be
# taken before the registry binds it. A registry that exits at start is retried.
START_ATTEMPTS = 3


class RegistryStartError(RuntimeError):
    """The registry process exited, or ``GET /v2/`` got no response in time."""


def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def credentials(stack, user="admin"):
    """Return the module arguments that authenticate ``user`` ("admin" or "reader") to ``stack``.

    Anonymous stacks have no users, so the result is an empty dict.
    """
    pair = {"admin": stack.admin, "reader": stack.reader}[user]
    if pair is None:
        return {}
    return {"username": pair[0], "password": pair[1]}


class RegistryStack:
    """Registry, token service (token mode) and counting proxy, started on construction.

    ``tls=True`` serves the registry, and in token mode the token service too,
    over https with a throwaway CA in ``ca_path``. The proxy stays plain http,
    so TLS tests talk to ``direct_address``. ``client_ca=True`` makes the
    registry require a client certificate (``client_cert``, ``client_key``).
    """

    def __init__(self, mode, workdir, *, delete_enabled=True, tls=False, client_ca=False):
        if mode not in MODES:
            raise ValueError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
        if client_ca and not tls:
            raise ValueError("client_ca=True needs tls=True")
        self.mode = mode
        self.workdir = str(workdir)
        self.delete_enabled = delete_enabled
        self.tls = tls
        self._client_ca = client_ca
        self.token_service = None
        self.proxy = None
        self._process = None
        self._tls_files = None
        self._direct_port = None
        self.log_path = os.path.join(self.workdir, "registry.log")

        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    # Addresses and credentials

    @property
    def address(self):
        """``127.0.0.1:PORT`` of the proxy: what modules under test talk to."""
        return self.proxy.address

    @property
    def direct_address(self):
        """``127.0.0.1:PORT`` of the registry itself, https when ``tls``."""
        return "127.0.0.1:%d" % self._direct_port

    @property
    def url(self):
        return "http://%s" % self.address

    @property
    def direct_url(self):
        return "%s://%s" % ("https" if self.tls else "http", self.direct_address)

    @property
    def admin(self):
        return None if self.mode == "anonymous" else tokenservice.ADMIN

    @property
    def reader(self):
        return None if self.mode == "anonymous" else tokenservice.READER

    @property
    def ca_path(self):
        return self._tls_files.ca_cert if self._tls_files else None

    @property
    def client_cert(self):
        return self._tls_files.client_cert if self._client_ca else None

    @property
    def client_key(self):
        return self._tls_files.client_key if self._client_ca else None

    def client_ssl_context(self):
        """Return an SSL context that trusts ``ca_path`` and shows the client certificate if required."""
        context = ssl.create_default_context(cafile=self.ca_path)
        if self.client_cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context

    # Lifecycle

    def _start(self):
        os.makedirs(os.path.join(self.workdir, "storage"), exist_ok=True)
        if self.tls:
            self._tls_files = write_tls_files(self.workdir)
        registry_context = self.client_ssl_context() if self.tls else None

        self.proxy = CountingProxy().start()
        if self.mode == "token":
            token_context = None
            if self.tls:
                token_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                token_context.load_cert_chain(self._tls_files.server_cert, self._tls_files.server_key)
            self.token_service = tokenservice.TokenService(
                os.path.join(self.workdir, "token-signer.pem"), ssl_context=token_context
            ).start()
            token_upstream_context = ssl.create_default_context(cafile=self.ca_path) if self.tls else None
            self.proxy.set_upstream("token", self.token_service.address, token_upstream_context)

        for attempt in range(1, START_ATTEMPTS + 1):
            self._direct_port = free_port()
            self._process = self._spawn()
            try:
                self._wait_until_ready()
                break
            except RegistryStartError:
                if self._process.poll() is None or attempt == START_ATTEMPTS:
                    raise
        self.proxy.set_upstream("registry", self.direct_address, registry_context)

    def _spawn(self):
        config_path = os.path.join(self.workdir, "config.json")
        with open(config_path, "w") as handle:
            json.dump(self._config(), handle, indent=2)
        # REGISTRY_* variables override the config file, so none may leak in.
        env = {name: value for name, value in os.environ.items() if not name.startswith("REGISTRY_")}
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(
                [REGISTRY_BINARY, "serve", config_path],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            )

    def _config(self):
        http_config = {"addr": self.direct_address, "secret": secrets.token_hex(16)}
        if self.tls:
            http_config["tls"] = {"certificate": self._tls_files.server_cert, "key": self._tls_files.server_key}
            if self._client_ca:
                http_config["tls"]["clientcas"] = [self._tls_files.ca_cert]
        config = {
            "version": "0.1",
            "log": {"level": "warn", "formatter": "text", "accesslog": {"disabled": True}},
            # No "cache" key: the in-memory blob descriptor cache would hide deletes.
            "storage": {
                "filesystem": {"rootdirectory": os.path.join(self.workdir, "storage")},
                "delete": {"enabled": self.delete_enabled},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http_config,
            "health": {"storagedriver": {"enabled": False}},
        }
        if self.mode == "token":
            # Over TLS the realm is the https token service itself, so clients never
            # send credentials from an https registry to a plain http realm.
            realm = self.token_service.url if self.tls else "http://%s/token" % self.proxy.address
            config["auth"] = {
                "token": {
                    "realm": realm,
                    "service": self.token_service.service,
                    "issuer": self.token_service.issuer,
                    "rootcertbundle": self.token_service.key.cert_path,
                }
            }
        elif self.mode == "basic":
            config["auth"] = {"htpasswd": {"realm": "oci-test-registry", "path": self._write_htpasswd()}}
        return config

    def _write_htpasswd(self):
        path = os.path.join(self.workdir, "htpasswd")
        lines = [
            subprocess.run(
                [HTPASSWD_BINARY, "-Bbn", username, password], check=True, capture_output=True, text=True
            ).stdout.strip()
            for username, password in (tokenservice.ADMIN, tokenservice.READER)
        ]
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return path

    def _wait_until_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        context = self.client_ssl_context() if self.tls else None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RegistryStartError(
                    "docker-registry exited with code %d at start. Registry log:\n%s"
                    % (self._process.returncode, self._log_tail())
                )
            if context is None:
                connection = http.client.HTTPConnection("127.0.0.1", self._direct_port, timeout=2)
            else:
                connection = http.client.HTTPSConnection("127.0.0.1", self._direct_port, timeout=2, context=context)
            try:
                connection.request("GET", "/v2/")
                if connection.getresponse().status in (200, 401):
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.02)
        raise RegistryStartError(
            "docker-registry timed out: GET /v2/ on %s got no response within %.0f s. Registry log:\n%s"
            % (self.direct_address, STARTUP_TIMEOUT, self._log_tail())
        )

    def _log_tail(self, size=4000):
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - size))
                return handle.read().decode(errors="replace")
        except OSError as error:
            return "(no registry log: %s)" % error

    def stop(self):
        """Stop the registry process, the token service and the proxy. Safe to call twice."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        if self.token_service is not None:
            self.token_service.stop()
        if self.proxy is not None:
            self.proxy.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return "RegistryStack(mode=%r, address=%r, direct_address=%r)" % (self.mode, self.address, self.direct_address)
