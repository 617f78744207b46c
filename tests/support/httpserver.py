"""A threaded HTTP/1.1 server on 127.0.0.1 that stops all of its threads.

The token service and the counting proxy both build on it. Clients keep
connections open (keep-alive), so a plain ``shutdown()`` would leave handler
threads blocked on idle sockets. ``stop()`` therefore closes those sockets
first and then joins every handler thread.
"""

import json
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger(__name__)


class QuietHandler(BaseHTTPRequestHandler):
    """Request handler that speaks HTTP/1.1 and logs through ``logging``."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - name fixed by the base class
        LOG.debug("%s %s", self.address_string(), format % args)

    def send_json(self, status, document, headers=None):
        """Send ``document`` as a JSON body with an exact Content-Length."""
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class LoopbackServer(ThreadingHTTPServer):
    """ThreadingHTTPServer on 127.0.0.1:<free port> running in a background thread.

    ``ssl_context`` turns it into an https server.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, handler_class, *, ssl_context=None, name="http"):
        super().__init__(("127.0.0.1", 0), handler_class)
        self.name = name
        self._ssl_context = ssl_context
        self._open_sockets = set()
        self._sockets_lock = threading.Lock()
        self._thread = None

    @property
    def port(self):
        return self.server_address[1]

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def get_request(self):
        sock, client_address = super().get_request()
        if self._ssl_context is not None:
            # The handshake runs in the handler thread, on first read.
            sock = self._ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._sockets_lock:
            self._open_sockets.add(sock)
        return sock, client_address

    def shutdown_request(self, request):
        with self._sockets_lock:
            self._open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        LOG.warning("%s: error while serving %s", self.name, client_address, exc_info=True)

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="%s-%d" % (self.name, self.port), daemon=True)
        self._thread.start()
        LOG.info("%s listening on %s", self.name, self.address)
        return self

    def stop(self):
        """Stop accepting, close idle keep-alive sockets and join all threads."""
        if self._thread is None:
            return
        self.shutdown()
        with self._sockets_lock:
            open_sockets = list(self._open_sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ssl.SSLError):
                pass
        self.server_close()
        self._thread.join()
        self._thread = None
        LOG.info("%s on port %d stopped", self.name, self.port)
