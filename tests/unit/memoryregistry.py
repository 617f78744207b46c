"""An in-memory OCI registry on 127.0.0.1 for behaviours Distribution 2.8 lacks.

The real registry in tests/integration does not paginate tag lists, has no
referrers API and rejects DELETE on a tag. ``MemoryRegistry`` serves the
distribution API from dictionaries and can do all three, so module tests can
run against it as a subprocess would against any registry:

* ``tag_page_size``: the tag list returns at most this many tags per page (or
  ``n`` when the client sends it) and links to the next page with ``Link``.
* ``referrers_api``: ``GET /v2/<name>/referrers/<digest>`` lists the manifests
  whose ``subject`` is the digest, ``referrers_page_size`` per page; without
  it the route returns 404 as Distribution 2.8 does.
* ``tag_delete``: "accept" removes only the tag (OCI distribution 1.1),
  "digest_invalid" returns 400 DIGEST_INVALID (Distribution 2.8),
  "unsupported" returns 405 UNSUPPORTED.
* ``manifest_delete``: False returns 405 UNSUPPORTED to every DELETE.

No authentication. Every request is recorded as ``(method, path, query, status)``.
"""

import hashlib
import json
import re
import threading
import uuid
from collections import namedtuple
from urllib.parse import parse_qsl, urlencode, urlsplit

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Record = namedtuple("Record", ["method", "path", "query", "status"])

_MANIFEST_RE = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")
_BLOB_RE = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)$")
_UPLOADS_RE = re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<upload>[^/]*)$")
_TAGS_RE = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_REFERRERS_RE = re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>[^/]+)$")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Repository(object):
    def __init__(self):
        self.blobs = {}
        self.manifests = {}
        self.tags = {}


class MemoryRegistry(object):
    """The registry state and its HTTP server; use as a context manager."""

    def __init__(self, tag_page_size=None, referrers_api=False, referrers_page_size=None,
                 tag_delete="digest_invalid", manifest_delete=True):
        self.tag_page_size = tag_page_size
        self.referrers_api = referrers_api
        self.referrers_page_size = referrers_page_size
        self.tag_delete = tag_delete
        self.manifest_delete = manifest_delete
        self.repositories = {}
        self.log = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.registry = self
        self._thread = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self._server.server_address[1]

    def __enter__(self):
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="memory-registry", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset_log(self):
        with self.lock:
            del self.log[:]

    def repository(self, name):
        return self.repositories.setdefault(name, Repository())

    # Seeding, without HTTP --------------------------------------------------------------

    def add_blob(self, name, data):
        digest = sha256_digest(data)
        self.repository(name).blobs[digest] = data
        return digest

    def add_manifest(self, name, document, tags=(), media_type=None):
        """Store ``document`` (a dict, or the exact bytes) as a manifest; return ``(digest, bytes)``."""
        body = document if isinstance(document, bytes) else json.dumps(document, sort_keys=True).encode()
        media_type = media_type or json.loads(body)["mediaType"]
        digest = sha256_digest(body)
        repository = self.repository(name)
        repository.manifests[digest] = (media_type, body)
        for tag in tags:
            repository.tags[tag] = digest
        return digest, body

    def counts(self):
        """Summarize the log like a module result's ``requests`` (no token service here)."""
        by_method = {}
        by_status = {}
        for record in self.log:
            by_method[record.method] = by_method.get(record.method, 0) + 1
            by_status[str(record.status)] = by_status.get(str(record.status), 0) + 1
        return {"total": len(self.log), "by_method": by_method, "by_status": by_status}

    # Request handling -------------------------------------------------------------------

    def handle(self, method, target, headers, body):
        """Return ``(status, headers, body)`` for one request."""
        parts = urlsplit(target)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path == "/v2/":
            return 200, {}, b"{}"
        for pattern, handler in (
            (_UPLOADS_RE, self._uploads),
            (_TAGS_RE, self._tags),
            (_REFERRERS_RE, self._referrers),
            (_MANIFEST_RE, self._manifest),
            (_BLOB_RE, self._blob),
        ):
            match = pattern.match(path)
            if match:
                return handler(method, match.groupdict(), query, headers, body)
        return 404, {"Content-Type": "text/plain"}, b"404 page not found"

    def _manifest(self, method, groups, query, headers, body):
        repository = self.repository(groups["name"])
        reference = groups["reference"]
        is_digest = ":" in reference
        if method == "PUT":
            digest = sha256_digest(body)
            repository.manifests[digest] = (headers.get("Content-Type"), body)
            if not is_digest:
                repository.tags[reference] = digest
            return 201, {"Docker-Content-Digest": digest}, b""
        if method == "DELETE":
            return self._delete_manifest(repository, reference, is_digest)
        digest = reference if is_digest else repository.tags.get(reference)
        if digest not in repository.manifests:
            return _error(404, "MANIFEST_UNKNOWN")
        media_type, stored = repository.manifests[digest]
        response_headers = {"Content-Type": media_type, "Docker-Content-Digest": digest}
        return 200, response_headers, stored

    def _delete_manifest(self, repository, reference, is_digest):
        if not self.manifest_delete:
            return _error(405, "UNSUPPORTED")
        if not is_digest:
            if self.tag_delete == "digest_invalid":
                return _error(400, "DIGEST_INVALID")
            if self.tag_delete == "unsupported":
                return _error(405, "UNSUPPORTED")
            if reference not in repository.tags:
                return _error(404, "MANIFEST_UNKNOWN")
            del repository.tags[reference]
            return 202, {}, b""
        if reference not in repository.manifests:
            return _error(404, "MANIFEST_UNKNOWN")
        del repository.manifests[reference]
        for tag in [tag for tag, digest in repository.tags.items() if digest == reference]:
            del repository.tags[tag]
        return 202, {}, b""

    def _blob(self, method, groups, query, headers, body):
        repository = self.repository(groups["name"])
        if method == "DELETE":
            if repository.blobs.pop(groups["digest"], None) is None:
                return _error(404, "BLOB_UNKNOWN")
            return 202, {}, b""
        data = repository.blobs.get(groups["digest"])
        if data is None:
            return _error(404, "BLOB_UNKNOWN")
        return 200, {"Content-Type": "application/octet-stream", "Docker-Content-Digest": groups["digest"]}, data

    def _uploads(self, method, groups, query, headers, body):
        name = groups["name"]
        if method == "POST":
            location = "/v2/%s/blobs/uploads/%s?_state=opaque" % (name, uuid.uuid4())
            return 202, {"Location": location}, b""
        if method == "PUT":
            digest = query.get("digest")
            if digest != sha256_digest(body):
                return _error(400, "DIGEST_INVALID")
            self.repository(name).blobs[digest] = body
            return 201, {"Location": "/v2/%s/blobs/%s" % (name, digest), "Docker-Content-Digest": digest}, b""
        return _error(405, "UNSUPPORTED")

    def _tags(self, method, groups, query, headers, body):
        name = groups["name"]
        if name not in self.repositories:
            return _error(404, "NAME_UNKNOWN")
        tags = sorted(self.repositories[name].tags)
        if "last" in query:
            tags = [tag for tag in tags if tag > query["last"]]
        page_size = int(query["n"]) if "n" in query else self.tag_page_size
        response_headers = {"Content-Type": "application/json"}
        if page_size is not None and len(tags) > page_size:
            tags = tags[:page_size]
            link = "/v2/%s/tags/list?%s" % (name, urlencode({"n": page_size, "last": tags[-1]}))
            response_headers["Link"] = '<%s>; rel="next"' % link
        return 200, response_headers, json.dumps({"name": name, "tags": tags}).encode()

    def _referrers(self, method, groups, query, headers, body):
        if not self.referrers_api:
            return 404, {"Content-Type": "text/plain"}, b"404 page not found"
        name = groups["name"]
        descriptors = []
        for digest, (media_type, stored) in sorted(self.repository(name).manifests.items()):
            document = json.loads(stored)
            subject = document.get("subject") or {}
            if subject.get("digest") != groups["digest"]:
                continue
            descriptor = {"mediaType": media_type, "digest": digest, "size": len(stored)}
            artifact_type = document.get("artifactType") or (document.get("config") or {}).get("mediaType")
            if artifact_type:
                descriptor["artifactType"] = artifact_type
            descriptors.append(descriptor)
        start = int(query.get("page", 0))
        response_headers = {"Content-Type": OCI_INDEX}
        if self.referrers_page_size is not None:
            end = start + self.referrers_page_size
            if end < len(descriptors):
                response_headers["Link"] = '</v2/%s/referrers/%s?page=%d>; rel="next"' % (name, groups["digest"], end)
            descriptors = descriptors[start:end]
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
        return 200, response_headers, json.dumps(index).encode()


def _error(status, code):
    body = json.dumps({"errors": [{"code": code, "message": code.lower().replace("_", " ")}]}).encode()
    return status, {"Content-Type": "application/json"}, body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Handler threads are daemons; an idle keep-alive connection ends after this many seconds.
    timeout = 10

    def log_message(self, format, *args):  # noqa: A002 - name fixed by the base class
        pass

    def do_GET(self):
        registry = self.server.registry
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with registry.lock:
            status, headers, payload = registry.handle(self.command, self.path, self.headers, body)
            parts = urlsplit(self.path)
            registry.log.append(Record(self.command, parts.path, parts.query, status))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET
