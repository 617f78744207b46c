"""A Docker token service that signs real RS256 JWTs for CNCF Distribution.

Implements the two token endpoints that registry clients use:

* ``GET /token?service=S&scope=T:N:A&scope=...`` with optional HTTP Basic
  credentials (the Docker token authentication specification), returning
  ``{"token", "access_token", "expires_in", "issued_at"}``.
* ``POST /token`` with a form body (the OAuth2 variant): ``grant_type=password``
  with ``username``/``password``, or ``grant_type=refresh_token``, plus
  ``service`` and space-separated ``scope``, returning ``access_token``.

Distribution 2.8.2 accepts the token when the JWT header names the signing key
by its libtrust key ID (``kid``) and the key's certificate is in the registry's
``auth.token.rootcertbundle``. ``aud`` must be a single string equal to the
registry's ``service``, and ``iss`` must equal its ``issuer``.

Run it alone with ``python -m tests.support.tokenservice``.
"""

import base64
import datetime
import hashlib
import json
import logging
import secrets
import threading
import time
from collections import namedtuple
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.support.httpserver import LoopbackServer, QuietHandler

LOG = logging.getLogger(__name__)

SERVICE = "oci-test-registry"
ISSUER = "oci-test-token-service"
TOKEN_LIFETIME = 300

ADMIN = ("admin", "admin-secret-pw")
READER = ("reader", "reader-secret-pw")
PASSWORDS = dict([ADMIN, READER])

# Actions each user may be granted, by resource type. ``None`` is the anonymous
# user. A requested action outside this table is left out of the token.
ALLOWED_ACTIONS = {
    "admin": {"repository": {"pull", "push", "delete"}, "registry": {"*"}},
    "reader": {"repository": {"pull"}},
    None: {"repository": {"pull"}},
}

TokenRequest = namedtuple("TokenRequest", ["method", "username", "scopes", "access"])
"""One token the service issued: who asked, the raw scopes, the granted access."""


class TokenError(Exception):
    """A token request the service rejects with ``status``."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def parse_scope(scope):
    """Split ``type:name:actions`` into ``(type, name, [actions])``.

    The name may itself contain colons (``repository:host:5000/app:pull``), so
    the type ends at the first colon and the actions start after the last one.
    """
    resource_type, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not (sep and sep2 and resource_type and name):
        raise TokenError(400, "invalid_scope", "invalid scope %r: expected type:name:actions" % scope)
    return resource_type, name, [action for action in actions.split(",") if action]


def grant_access(username, scopes):
    """Return the JWT ``access`` claim: requested actions the user may have.

    Scopes naming the same resource are merged. Resources keep the order of
    their first scope, actions are sorted.
    """
    allowed = ALLOWED_ACTIONS[username]
    requested = {}
    for scope in scopes:
        resource_type, name, actions = parse_scope(scope)
        requested.setdefault((resource_type, name), set()).update(actions)
    return [
        {"type": resource_type, "name": name, "actions": sorted(actions & allowed.get(resource_type, set()))}
        for (resource_type, name), actions in requested.items()
    ]


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_key):
    """Return the key ID Distribution computes for a trusted key.

    It is the SHA-256 of the DER SubjectPublicKeyInfo, cut to 30 bytes, in
    unpadded base32, as 12 groups of 4 characters joined by ``:``.
    """
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


class SigningKey:
    """An RSA key and its self-signed certificate, written to ``cert_path``."""

    def __init__(self, cert_path, common_name=ISSUER):
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self.cert_path = cert_path
        with open(cert_path, "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        self.key_id = libtrust_key_id(self._key.public_key())

    def sign(self, claims):
        """Return ``claims`` as a compact RS256 JWS."""
        header = {"typ": "JWT", "alg": "RS256", "kid": self.key_id}
        signing_input = "%s.%s" % (
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(claims, separators=(",", ":")).encode()),
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return "%s.%s" % (signing_input, _b64url(signature))


class TokenService:
    """The token endpoint, served at ``url`` until ``stop()``.

    ``requests`` lists every token issued, so tests can check which scopes a
    client asked for in one fetch. ``lifetime`` is the token lifetime in seconds.
    """

    def __init__(self, cert_path, *, service=SERVICE, issuer=ISSUER, lifetime=TOKEN_LIFETIME, ssl_context=None):
        self.service = service
        self.issuer = issuer
        self.lifetime = lifetime
        self.key = SigningKey(cert_path)
        self._issued = []
        self._refresh_tokens = {}
        self._lock = threading.Lock()
        self._server = LoopbackServer(_TokenHandler, ssl_context=ssl_context, name="token-service")
        self._server.token_service = self
        self.scheme = "https" if ssl_context else "http"

    @property
    def address(self):
        return self._server.address

    @property
    def url(self):
        return "%s://%s/token" % (self.scheme, self.address)

    @property
    def requests(self):
        with self._lock:
            return list(self._issued)

    def reset(self):
        with self._lock:
            self._issued.clear()

    def start(self):
        self._server.start()
        return self

    def stop(self):
        self._server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def authenticate(self, username, password):
        """Return the user name, or raise TokenError 401 for bad credentials."""
        if PASSWORDS.get(username) is None or not secrets.compare_digest(PASSWORDS[username], password):
            raise TokenError(401, "UNAUTHORIZED", "invalid username or password")
        return username

    def issue_refresh_token(self, username):
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[token] = username
        return token

    def user_for_refresh_token(self, token):
        with self._lock:
            username = self._refresh_tokens.get(token)
        if username is None:
            raise TokenError(401, "invalid_grant", "unknown refresh token")
        return username

    def issue(self, method, username, service, scopes):
        """Return ``(jwt, issued_at)`` granting ``username`` what ``scopes`` ask for."""
        if service is not None and service != self.service:
            raise TokenError(400, "invalid_request", "unknown service %r, expected %r" % (service, self.service))
        access = grant_access(username, scopes)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": username or "",
            "aud": self.service,
            "exp": now + self.lifetime,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        with self._lock:
            self._issued.append(TokenRequest(method, username, list(scopes), access))
        LOG.debug("issued token to %s for %s", username or "anonymous", access)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.key.sign(claims), issued_at


class _TokenHandler(QuietHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        if url.path != "/token":
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
            return
        query = parse_qs(url.query)
        service = self.server.token_service
        try:
            username = self._basic_user()
            token, issued_at = service.issue("GET", username, query.get("service", [None])[0], query.get("scope", []))
        except TokenError as error:
            headers = {"WWW-Authenticate": 'Basic realm="%s"' % service.issuer} if error.status == 401 else None
            self.send_json(error.status, {"errors": [{"code": error.code, "message": error.message}]}, headers)
            return
        document = {"token": token, "access_token": token, "expires_in": service.lifetime, "issued_at": issued_at}
        if username is not None and query.get("offline_token") == ["true"]:
            document["refresh_token"] = service.issue_refresh_token(username)
        self.send_json(200, document)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        if urlsplit(self.path).path != "/token":
            self.send_json(404, {"error": "not_found"})
            return

        def field(name):
            return form.get(name, [None])[0]

        service = self.server.token_service
        try:
            grant_type = field("grant_type")
            if grant_type == "password":
                username = service.authenticate(field("username") or "", field("password") or "")
            elif grant_type == "refresh_token":
                username = service.user_for_refresh_token(field("refresh_token") or "")
            else:
                raise TokenError(400, "unsupported_grant_type", "grant_type must be password or refresh_token")
            scopes = (field("scope") or "").split()
            token, issued_at = service.issue("POST", username, field("service"), scopes)
        except TokenError as error:
            self.send_json(error.status, {"error": error.code, "error_description": error.message})
            return
        document = {"access_token": token, "expires_in": service.lifetime, "issued_at": issued_at, "scope": " ".join(scopes)}
        if field("access_type") == "offline":
            document["refresh_token"] = service.issue_refresh_token(username)
        self.send_json(200, document)

    def _basic_user(self):
        """Return the Basic-authenticated user name, or None when anonymous."""
        header = self.headers.get("Authorization")
        if header is None:
            return None
        scheme, _unused, credentials = header.partition(" ")
        if scheme.lower() != "basic":
            raise TokenError(401, "UNAUTHORIZED", "only Basic credentials are accepted")
        try:
            username, _unused, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise TokenError(401, "UNAUTHORIZED", "malformed Basic credentials") from None
        return self.server.token_service.authenticate(username, password)


def main():
    import tempfile

    logging.basicConfig(level=logging.INFO)
    with tempfile.TemporaryDirectory() as directory:
        with TokenService(directory + "/token-signer.crt") as service:
            print("token endpoint: %s (root certificate %s)" % (service.url, service.key.cert_path), flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass


if __name__ == "__main__":
    main()
