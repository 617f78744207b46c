"""An https front on 127.0.0.1 that relays raw bytes to the plain-http counting proxy.

python-dxf raises DXFAuthInsecureError instead of sending credentials over plain
http, and always fetches tokens from an https realm. The benchmark therefore
runs it against this front, so its requests still pass through the counting
proxy, which logs them as it logs every other client's.
"""

import logging
import socket
import socketserver
import ssl
import threading

from tests.support.httpserver import LoopbackServer

LOG = logging.getLogger(__name__)
PIECE_SIZE = 64 * 1024


def _copy(source, target):
    """Copy bytes from ``source`` to ``target`` until EOF, then half-close ``target``."""
    try:
        while True:
            piece = source.recv(PIECE_SIZE)
            if not piece:
                break
            target.sendall(piece)
    except OSError as error:
        # A client that closes its end mid-stream ends the relay; the next run connects anew.
        LOG.debug("tls-front: relay stopped: %s", error)
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class _RelayHandler(socketserver.BaseRequestHandler):
    def handle(self):
        upstream = socket.create_connection(self.server.upstream_address)
        # Without TCP_NODELAY, Nagle's algorithm and delayed ACKs hold small relayed
        # writes back for about 40 ms each.
        for sock in (upstream, self.request):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with upstream:
            backward = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
            backward.start()
            _copy(self.request, upstream)
            backward.join()


class TlsFront:
    """TLS-terminating TCP relay from 127.0.0.1:<free port> to ``upstream`` ("host:port")."""

    def __init__(self, upstream, cert_path, key_path):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_path, key_path)
        self._server = LoopbackServer(_RelayHandler, ssl_context=context, name="tls-front")
        host, port = upstream.rsplit(":", 1)
        self._server.upstream_address = (host, int(port))

    @property
    def address(self):
        return self._server.address

    def __enter__(self):
        self._server.start()
        return self

    def __exit__(self, *exc_info):
        self._server.stop()
