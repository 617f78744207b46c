"""Push what each benchmark run deletes, with as few requests as the registry allows.

Every repository gets a real image (config and gzip'd tar layer) once, and for
index deletes two platform images. A run then PUTs a copy of that manifest,
or an index of the two images, that differs only in one annotation. The copy
has a digest of its own, so deleting it leaves the shared images and blobs in
place, and seeding a run costs one PUT (plus a token in token mode).
"""

import itertools
import json

from tests.support import images

ANNOTATION = "org.example.bench.copy"


class Seeder:
    """Pushes tagged manifests into the repositories of one registry stack."""

    def __init__(self, stack):
        self.stack = stack
        self._images = {}
        self._platform_images = {}
        self._copies = itertools.count()

    def _image(self, repository):
        if repository not in self._images:
            self._images[repository] = images.push_image(self.stack, repository, [])
        return self._images[repository]

    def _copy(self, template):
        """Return ``template`` as JSON bytes with an annotation that no other copy has."""
        return json.dumps(dict(template, annotations={ANNOTATION: str(next(self._copies))}), indent=3).encode()

    def _put(self, repository, template, media_type, tags):
        """PUT one copy of ``template`` under each tag and return the digests, in the order of ``tags``."""
        digests = []
        with images.AdminClient(self.stack, repository) as client:
            for tag in tags:
                body = self._copy(template)
                response = client.request("PUT", "/manifests/" + tag, data=body, headers={"Content-Type": media_type})
                if response.status_code != 201:
                    raise images.SeedError(
                        "PUT manifests/%s in %s returned %d: %s" % (tag, repository, response.status_code, response.text)
                    )
                digests.append(images.sha256_digest(body))
        return digests

    def image(self, repository, tags):
        """Push an image manifest under each of ``tags`` (one manifest per tag) and return their digests."""
        image = self._image(repository)
        return self._put(repository, json.loads(image.manifest_bytes), image.media_type, tags)

    def index(self, repository, tag):
        """Push an OCI image index of an amd64 and an arm64 image under ``tag`` and return its digest."""
        if repository not in self._platform_images:
            self._platform_images[repository] = [
                images.push_image(self.stack, repository, [], architecture=architecture)
                for architecture in ("amd64", "arm64")
            ]
        template = {
            "schemaVersion": 2,
            "mediaType": images.OCI_INDEX,
            "manifests": [image.descriptor() for image in self._platform_images[repository]],
        }
        return self._put(repository, template, images.OCI_INDEX, [tag])[0]

    def blob(self, repository, data):
        """Upload ``data`` as a blob and return its digest."""
        return images.push_blob(self.stack, repository, data)
