"""Delete manifests by tag or digest with the oras-py Python API.

oras-py ships no command line tool, so the benchmark runs this script with the
interpreter of bench/.venv, one process per run. ``Registry.delete_tags`` is
oras-py's only delete call: it resolves each reference with HEAD and deletes
the manifest by digest. It has no call that deletes a blob.

Usage: python bench/oras_delete.py [--auth-backend token|basic] REGISTRY REPOSITORY REFERENCE...
Credentials come from BENCH_USERNAME and BENCH_PASSWORD when both are set.
"""

import argparse
import os
import re
import sys
import tempfile

import oras.client


def _without_response_body(message):
    """Replace the registry's JSON error body that oras-py puts in its message with the error codes."""
    errors = re.findall(r"'code': '(\w+)', 'message': '([^']*)'", message)
    if not errors:
        return message
    return "%s: %s" % (message.split(": {", 1)[0], "; ".join("%s (%s)" % error for error in errors))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Delete manifests with oras-py over plain http.")
    parser.add_argument("--auth-backend", choices=("token", "basic"), default="token", help="oras-py auth backend")
    parser.add_argument("registry", help="host:port of the registry")
    parser.add_argument("repository")
    parser.add_argument("references", nargs="+", help="tags or digests to delete")
    arguments = parser.parse_args(argv)

    client = oras.client.OrasClient(hostname=arguments.registry, insecure=True, auth_backend=arguments.auth_backend)
    username = os.environ.get("BENCH_USERNAME")
    password = os.environ.get("BENCH_PASSWORD")
    with tempfile.TemporaryDirectory(prefix="oras-config-") as config_dir:
        if username and password:
            # login() stores the credentials in a Docker config file, so it gets a throwaway one.
            client.login(username, password, hostname=arguments.registry,
                         config_path=os.path.join(config_dir, "config.json"))
        try:
            deleted = client.delete_tags("%s/%s" % (arguments.registry, arguments.repository), arguments.references)
        except (RuntimeError, ValueError) as error:
            print("oras-py failed: %s" % _without_response_body(str(error)), file=sys.stderr)
            return 1
    not_deleted = [reference for reference in arguments.references if reference not in deleted]
    if not_deleted:
        # delete_tags skips a reference only when its HEAD request gets 404.
        print("oras-py skipped %s: HEAD got 404" % ", ".join(not_deleted[:3]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
