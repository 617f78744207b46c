"""A counting reverse proxy in front of the registry and its token service.

Paths starting with ``/token`` go to the token service, everything else to
the registry. Each request is recorded as ``(method, path, status, upstream)``
with the query string cut off, so tests can assert exact request counts.

Bodies stream in both directions in 64 KiB pieces, chunked request bodies
are passed on chunk by chunk, and all end-to-end headers pass unchanged (the
``Host`` header too, so the registry builds ``Location`` URLs that point at the
proxy). The proxy adds ``X-Forwarded-Proto: http`` because clients talk plain
http to it even when the registry behind it serves https.
"""

import http.client
import logging
import threading
from collections import Counter, namedtuple
from urllib.parse import urlsplit

from tests.support.httpserver import LoopbackServer, QuietHandler

LOG = logging.getLogger(__name__)

PIECE_SIZE = 64 * 1024

# Hop-by-hop headers (RFC 9110 section 7.6.1) apply to one connection only.
# The proxy also drops Expect because it sends 100 Continue itself.
HOP_BY_HOP = frozenset(
    ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
     "te", "trailer", "transfer-encoding", "upgrade", "expect"]
)

ProxyRecord = namedtuple("ProxyRecord", ["method", "path", "status", "upstream"])
"""One proxied request. ``upstream`` is "token" or "registry"."""

Upstream = namedtuple("Upstream", ["host", "port", "ssl_context"])


class CountingProxy:
    """Reverse proxy on 127.0.0.1:<free port> that records every request."""

    def __init__(self):
        self._upstreams = {}
        self._log = []
        self._lock = threading.Lock()
        self._server = LoopbackServer(_ProxyHandler, name="proxy")
        self._server.proxy = self

    @property
    def address(self):
        return self._server.address

    def set_upstream(self, name, address, ssl_context=None):
        """Route ``name`` ("token" or "registry") to ``address`` ("host:port")."""
        host, _unused, port = address.rpartition(":")
        self._upstreams[name] = Upstream(host, int(port), ssl_context)

    def route(self, path):
        """Return the upstream name for a request path."""
        if path.startswith("/token") and "token" in self._upstreams:
            return "token"
        return "registry"

    def upstream(self, name):
        return self._upstreams[name]

    def record(self, method, path, status, upstream):
        with self._lock:
            self._log.append(ProxyRecord(method, path, status, upstream))

    @property
    def log(self):
        """A copy of the records so far, oldest first."""
        with self._lock:
            return list(self._log)

    def reset(self):
        with self._lock:
            self._log.clear()

    def counts(self):
        """Summarize the log in the shape of a module result's ``requests``.

        ``total`` counts every request, token fetches included, and ``token``
        counts those that went to the token service.
        """
        records = self.log
        return {
            "total": len(records),
            "token": sum(1 for record in records if record.upstream == "token"),
            "by_method": dict(Counter(record.method for record in records)),
            "by_status": dict(Counter(str(record.status) for record in records)),
        }

    def start(self):
        self._server.start()
        return self

    def stop(self):
        self._server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class _ProxyHandler(QuietHandler):
    def setup(self):
        super().setup()
        self._connections = {}

    def finish(self):
        for connection in self._connections.values():
            connection.close()
        super().finish()

    def do_GET(self):
        self._forward()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _forward(self):
        proxy = self.server.proxy
        path = urlsplit(self.path).path
        name = proxy.route(path)
        try:
            response = self._send_upstream(proxy.upstream(name))
        except (OSError, http.client.HTTPException) as error:
            LOG.warning("proxy: %s %s to %s failed: %s", self.command, path, name, error)
            proxy.record(self.command, path, 502, name)
            self.close_connection = True
            self.send_json(502, {"errors": [{"code": "BAD_GATEWAY", "message": str(error)}]})
            return
        # Record before relaying, so the log is complete once the client has the body.
        proxy.record(self.command, path, response.status, name)
        self._relay(response)

    def _connection(self, upstream):
        connection = self._connections.get(upstream)
        if connection is None:
            if upstream.ssl_context is None:
                connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=300)
            else:
                connection = http.client.HTTPSConnection(
                    upstream.host, upstream.port, timeout=300, context=upstream.ssl_context
                )
            self._connections[upstream] = connection
        return connection

    def _send_upstream(self, upstream):
        connection = self._connection(upstream)
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        named_in_connection = {token.strip().lower() for token in self.headers.get("Connection", "").split(",")}
        for header, value in self.headers.items():
            lowered = header.lower()
            if lowered not in HOP_BY_HOP and lowered not in named_in_connection:
                connection.putheader(header, value)
        connection.putheader("X-Forwarded-Proto", "http")
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for piece in self._chunked_body() if chunked else self._sized_body():
            connection.send(piece)
        return connection.getresponse()

    def _sized_body(self):
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            piece = self.rfile.read(min(remaining, PIECE_SIZE))
            if not piece:
                raise ConnectionError("client closed the connection inside the request body")
            remaining -= len(piece)
            yield piece

    def _chunked_body(self):
        """Yield the chunked request body as received, framing included."""
        while True:
            size_line = self.rfile.readline(PIECE_SIZE)
            yield size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                break
            remaining = size + 2  # chunk data and its CRLF
            while remaining > 0:
                piece = self.rfile.read(min(remaining, PIECE_SIZE))
                if not piece:
                    raise ConnectionError("client closed the connection inside a chunk")
                remaining -= len(piece)
                yield piece
        while True:  # trailer section, ends with an empty line
            line = self.rfile.readline(PIECE_SIZE)
            yield line
            if line.strip() == b"":
                break

    def _relay(self, response):
        has_body = self.command != "HEAD" and response.status not in (204, 304) and response.status >= 200
        rechunk = has_body and response.getheader("Content-Length") is None
        self.send_response_only(response.status, response.reason)
        for header, value in response.getheaders():
            if header.lower() not in HOP_BY_HOP:
                self.send_header(header, value)
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while has_body:
            piece = response.read(PIECE_SIZE)
            if rechunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            elif piece:
                self.wfile.write(piece)
            if not piece:
                break
        response.close()
