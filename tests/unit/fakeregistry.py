"""Scripted HTTP/1.1 servers on 127.0.0.1 for the registry client's unit tests.

A FakeServer responds to each (method, path) from a route: a list of scripted Reply
objects (the last one repeats) or a function of the recorded request. It records
every request it receives, with the status it sent, so a test can compare the
client's request statistics with what went over the wire.

TokenService and BearerGuard model Docker token authentication: the guard responds
with 401 and a Bearer challenge unless the request carries a token that the service
issued with the needed action, and the service issues tokens for the requested
scopes (or fewer, as its ``grant`` function decides).
"""

import base64
import json
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TOKEN_PATH = "/token"
SERVICE = "fake-registry"
# How long a handler thread waits on an idle keep-alive connection or a slow client.
HANDLER_TIMEOUT = 10


class Reply(object):
    """One scripted response.

    ``reset`` closes the connection with a TCP RST instead of responding, ``stall``
    reads the request and never responds. ``cut`` sends the headers and only that many
    body bytes, then resets the connection, or with ``stall`` waits without sending more.
    ``drip`` sends the body one byte at a time, that many seconds apart.
    """

    def __init__(self, status=200, headers=(), body=b"", reset=False, stall=False, cut=None, drip=None):
        self.status = status
        self.headers = list(headers.items()) if isinstance(headers, dict) else list(headers)
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.reset = reset
        self.stall = stall
        self.cut = cut
        self.drip = drip


def json_reply(document, status=200, headers=()):
    return Reply(status, [("Content-Type", "application/json")] + list(headers), json.dumps(document))


def oci_error(status, code, message="", headers=()):
    """Return a response with an OCI distribution error body."""
    return json_reply({"errors": [{"code": code, "message": message}]}, status, headers)


def challenge(*header_lines, status=401):
    """Return a 401 (or ``status``) response with one WWW-Authenticate line per argument."""
    return Reply(status, [("WWW-Authenticate", line) for line in header_lines])


def manifest_reply(body, media_type, digest=None):
    """Return a manifest response; ``digest`` None sends no Docker-Content-Digest header."""
    headers = [("Content-Type", media_type)]
    if digest is not None:
        headers.append(("Docker-Content-Digest", digest))
    return Reply(200, headers, body)


def basic_value(username, password):
    """Return the Authorization header value of HTTP Basic credentials."""
    return "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode()).decode()


class Request(object):
    """A request as the server received it, and the status it responded with (None: no response)."""

    def __init__(self, method, target, headers, body):
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = parse_qsl(parts.query, keep_blank_values=True)
        self.raw_query = parts.query
        self.headers = headers
        self.body = body
        self.status = None

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def params(self, name):
        return [value for key, value in self.query if key == name]

    def form(self):
        return parse_qsl(self.body.decode("utf-8"), keep_blank_values=True)

    def __repr__(self):
        return "<%s %s -> %s>" % (self.method, self.path, self.status)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = HANDLER_TIMEOUT

    def log_message(self, format, *args):  # noqa: A002 - name fixed by the base class
        pass

    def handle(self):
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError) as error:
                self.server.fake.tls_errors.append(error)
                return
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            # The client went away, or stop() closed the socket: nothing to answer.
            pass

    def _serve(self):
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, list(self.headers.items()), body)
        fake.record(request)
        reply = fake.respond(request)

        if reply.stall and reply.cut is None:
            fake.stopping.wait()
            self.close_connection = True
            return
        if reply.reset:
            self._reset()
            return

        request.status = reply.status
        self.send_response(reply.status)
        names = {name.lower() for name, _unused in reply.headers}
        for name, value in reply.headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command == "HEAD":
            return

        if reply.drip is not None:
            for index in range(len(reply.body)):
                self.wfile.write(reply.body[index:index + 1])
                self.wfile.flush()
                if fake.stopping.wait(reply.drip):
                    break
            self.close_connection = True
            return
        if reply.cut is not None:
            self.wfile.write(reply.body[:reply.cut])
            if reply.stall:
                fake.stopping.wait()
                self.close_connection = True
            else:
                self._reset()
            return
        self.wfile.write(reply.body)

    def _reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    do_GET = do_HEAD = do_DELETE = do_POST = do_PUT = do_PATCH = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake, ssl_context):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.ssl_context = ssl_context
        self.open_sockets = set()
        self.sockets_lock = threading.Lock()

    def get_request(self):
        sock, address = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self.sockets_lock:
            self.open_sockets.add(sock)
        return sock, address

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # Handler errors are test failures of their own: keep them for the test to see.
        self.fake.handler_errors.append(client_address)


class FakeServer(object):
    """A scripted HTTP/1.1 server on 127.0.0.1 at a random port (https with ``ssl_context``)."""

    def __init__(self, ssl_context=None):
        self.routes = {}
        self.requests = []
        self.tls_errors = []
        self.handler_errors = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(self, ssl_context)
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def host(self):
        """``127.0.0.1:PORT``, the value of the client's ``registry`` option."""
        return "127.0.0.1:%d" % self._server.server_address[1]

    def url(self, path=""):
        return "%s://%s%s" % (self.scheme, self.host, path)

    def script(self, method, path, *replies):
        """Answer ``method path`` with ``replies`` in turn; the last one repeats."""
        replies = list(replies)
        served = []

        def next_reply(request):
            served.append(request)
            return replies[min(len(served), len(replies)) - 1]

        self.routes[(method, path)] = next_reply

    def route(self, method, path, handler):
        """Answer ``method path`` with ``handler(request)``, which returns a Reply."""
        self.routes[(method, path)] = handler

    def record(self, request):
        with self._lock:
            self.requests.append(request)

    def respond(self, request):
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return oci_error(404, "NAME_UNKNOWN", "no route for %s %s" % (request.method, request.path))
        return handler(request)

    def seen(self, method=None, path=None):
        """Return the recorded requests, filtered by method and path."""
        return [
            request for request in self.requests
            if (method is None or request.method == method) and (path is None or request.path == path)
        ]

    def stop(self):
        """Stop accepting, close every open connection and join all threads."""
        self.stopping.set()
        self._server.shutdown()
        with self._server.sockets_lock:
            open_sockets = list(self._server.open_sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join()


def wire_stats(*servers, retries=0):
    """Return what ``RequestStats.as_dict()`` must equal for the requests ``servers`` saw.

    Requests to TOKEN_PATH count as token requests; a request without a response counts
    under ``error``. ``retries`` cannot be seen on the wire and is passed in.
    """
    requests = [request for server in servers for request in server.requests]
    by_method = {}
    by_status = {}
    for request in requests:
        by_method[request.method] = by_method.get(request.method, 0) + 1
        key = "error" if request.status is None else str(request.status)
        by_status[key] = by_status.get(key, 0) + 1
    return {
        "total": len(requests),
        "token": sum(1 for request in requests if request.path == TOKEN_PATH),
        "retries": retries,
        "by_method": dict(sorted(by_method.items())),
        "by_status": dict(sorted(by_status.items())),
    }


def parse_scope(scope):
    """Split ``type:name:actions`` (the name may contain colons) for the fake's own use."""
    resource, _unused, actions = scope.rpartition(":")
    resource_type, _unused, name = resource.partition(":")
    return resource_type, name, set(filter(None, actions.split(",")))


class Issued(object):
    """A token the fake service issued: to whom, for which request, and what it grants."""

    def __init__(self, value, user, requested, granted, method):
        self.value = value
        self.user = user
        self.requested = requested
        self.granted = granted
        self.method = method


class TokenService(object):
    """Route handler for TOKEN_PATH: Docker token auth on GET, OAuth2 refresh on POST.

    ``users`` maps user names to passwords; without it every request is anonymous.
    ``grant(user, scope)`` returns the actions granted for one requested scope (all
    requested ones by default). ``document(value)`` builds the JSON answer.
    ``prefix`` starts every token value, so tests can search output for it.
    """

    def __init__(self, users=None, grant=None, document=None, prefix="token"):
        self.users = users
        self.grant = grant or (lambda user, scope: parse_scope(scope)[2])
        self.document = document or (lambda value: {"token": value, "expires_in": 300})
        self.prefix = prefix
        self.issued = []
        self.revoked = set()

    def __call__(self, request):
        user = None
        authorization = request.header("Authorization")
        if self.users is not None and authorization:
            user = self._check_basic(authorization)
            if user is None:
                return oci_error(401, "UNAUTHORIZED", "invalid username or password")
        if request.method == "POST":
            form = dict(request.form())
            requested = form.get("scope", "").split()
        else:
            requested = request.params("scope")
        granted = {}
        for scope in requested:
            resource_type, name, _unused = parse_scope(scope)
            granted.setdefault((resource_type, name), set()).update(self.grant(user, scope))
        value = "%s-%d" % (self.prefix, len(self.issued) + 1)
        self.issued.append(Issued(value, user, requested, granted, request.method))
        return json_reply(self.document(value))

    def _check_basic(self, authorization):
        scheme, _unused, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        username, _unused, password = base64.b64decode(encoded).decode().partition(":")
        return username if self.users.get(username) == password else None

    def find(self, value):
        for issued in self.issued:
            if issued.value == value:
                return issued
        return None


class BearerGuard(object):
    """Registry side of token auth: wraps a route so it needs a token with an action."""

    def __init__(self, server, tokens, realm=None, service=SERVICE, insufficient_error=True):
        self.tokens = tokens
        self.realm = realm or server.url(TOKEN_PATH)
        self.service = service
        self.insufficient_error = insufficient_error

    def challenge_value(self, scope, error=None):
        value = 'Bearer realm="%s",service="%s",scope="%s"' % (self.realm, self.service, scope)
        if error:
            value += ',error="%s"' % error
        return value

    def protect(self, repository, action, reply, scope=None):
        """Return a route handler that answers ``reply`` (a Reply or a handler) once
        the request carries a token granting ``action`` on ``repository``.

        ``scope`` replaces the challenge's scope (``repository:<name>:<action>``).
        """
        scope = scope or "repository:%s:%s" % (repository, action)

        def handler(request):
            authorization = request.header("Authorization") or ""
            value = authorization[len("Bearer "):] if authorization.startswith("Bearer ") else None
            issued = self.tokens.find(value) if value else None
            if issued is None or value in self.tokens.revoked:
                error = "invalid_token" if value else None
                return challenge(self.challenge_value(scope, error))
            granted = issued.granted.get(("repository", repository), set())
            if action not in granted and "*" not in granted:
                error = "insufficient_scope" if self.insufficient_error else None
                return challenge(self.challenge_value(scope, error))
            return reply(request) if callable(reply) else reply

        return handler


def token_auth(server, insufficient_error=True, **service_options):
    """Serve a TokenService at TOKEN_PATH of ``server`` (GET and POST); return it and its guard."""
    tokens = TokenService(**service_options)
    server.route("GET", TOKEN_PATH, tokens)
    server.route("POST", TOKEN_PATH, tokens)
    return tokens, BearerGuard(server, tokens, insufficient_error=insufficient_error)
