"""Start one registry stack, run a command against it, and stop it again.

Usage::

    python -m tests.support.stack --mode token --seed -- ansible-playbook demo.yml

COMMAND runs with these variables in its environment:

* ``OCI_REGISTRY``: ``127.0.0.1:PORT`` of the counting proxy
* ``OCI_USERNAME``, ``OCI_PASSWORD``: the admin user (unset in anonymous mode)
* ``OCI_DEMO_FACTS``: path of a JSON file with the stack's addresses and, with
  ``--seed``, the digests of the demo images

After COMMAND ends, the proxy's request counts for COMMAND's requests are
printed to stderr, everything is stopped (also on Ctrl-C or SIGTERM), and the
exit code is COMMAND's. Without COMMAND the stack runs until Ctrl-C.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from tests.support import images
from tests.support.registry import MODES, RegistryStack

DEMO_REPOSITORY = "demo/app"
CHILD_GRACE_SECONDS = 10


def seed_demo(stack, repository=DEMO_REPOSITORY):
    """Push the demo images and return their facts, keyed by a short name.

    ``v1.0`` is an OCI image pushed 30 days ago, ``v1.1`` (also tagged
    ``latest``) a current one, ``legacy`` a Docker v2 image and ``multi`` an
    OCI index of an amd64 and an arm64 image that carry no tag of their own.
    """
    now = time.time()
    days_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30 * 86400))
    pushed = {
        "v1.0": images.push_image(stack, repository, ["v1.0"], layers=2, created=days_ago),
        "v1.1": images.push_image(stack, repository, ["v1.1", "latest"], layers=2),
        "legacy": images.push_image(stack, repository, ["legacy"], media_type=images.DOCKER_MANIFEST),
        "amd64": images.push_image(stack, repository, [], architecture="amd64"),
        "arm64": images.push_image(stack, repository, [], architecture="arm64"),
    }
    pushed["multi"] = images.push_index(stack, repository, ["multi"], [pushed["amd64"], pushed["arm64"]])
    return {
        name: {
            "digest": image.digest,
            "media_type": image.media_type,
            "config_digest": image.config_digest,
            "layer_digests": list(image.layer_digests),
            "children": [child.digest for child in image.children],
        }
        for name, image in pushed.items()
    }


def command_environment(stack, facts_path):
    env = {key: value for key, value in os.environ.items() if key not in ("OCI_USERNAME", "OCI_PASSWORD")}
    env["OCI_REGISTRY"] = stack.address
    env["OCI_DEMO_FACTS"] = facts_path
    if stack.admin is not None:
        env["OCI_USERNAME"], env["OCI_PASSWORD"] = stack.admin
    return env


def stop_child(process):
    """Wait for ``process`` to exit after an interrupt, terminating it if it lingers."""
    try:
        return process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.terminate()
    try:
        return process.wait(timeout=CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.stack",
        description="Start a registry stack on 127.0.0.1, run COMMAND against it, then stop it.",
    )
    parser.add_argument("--mode", choices=MODES, default="token", help="auth mode of the registry (default: token)")
    parser.add_argument("--seed", action="store_true", help="push the demo images to %s first" % DEMO_REPOSITORY)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="command to run, after --")
    arguments = parser.parse_args(argv)
    if arguments.command[:1] == ["--"]:
        arguments.command = arguments.command[1:]
    return arguments


def main(argv=None):
    arguments = parse_arguments(argv)
    # Shells start background jobs with SIGINT ignored. Restore the handler so
    # Ctrl-C and kill -INT always reach the cleanup below.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    with tempfile.TemporaryDirectory(prefix="oci-registry-stack-") as workdir:
        stack = RegistryStack(arguments.mode, workdir)
        try:
            return run(stack, arguments, workdir)
        except KeyboardInterrupt:
            return 130
        finally:
            stack.stop()


def run(stack, arguments, workdir):
    facts = {
        "mode": stack.mode,
        "registry": stack.address,
        "direct_address": stack.direct_address,
        "repository": DEMO_REPOSITORY,
        "images": seed_demo(stack) if arguments.seed else {},
    }
    facts_path = os.path.join(workdir, "demo-facts.json")
    with open(facts_path, "w") as handle:
        json.dump(facts, handle, indent=2)
    env = command_environment(stack, facts_path)
    stack.proxy.reset()
    print("registry stack (%s mode) on %s, started in %.2f s" % (stack.mode, stack.address, stack.startup_seconds),
          file=sys.stderr, flush=True)

    if not arguments.command:
        for name in ("OCI_REGISTRY", "OCI_USERNAME", "OCI_PASSWORD", "OCI_DEMO_FACTS"):
            if name in env:
                print("export %s=%s" % (name, env[name]), flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0

    try:
        process = subprocess.Popen(arguments.command, env=env)
    except OSError as error:
        print("cannot run %s: %s" % (arguments.command[0], error), file=sys.stderr)
        return 127
    try:
        returncode = process.wait()
    except KeyboardInterrupt:
        returncode = stop_child(process)
    finally:
        print("proxy requests: %s" % json.dumps(stack.proxy.counts(), sort_keys=True), file=sys.stderr, flush=True)
    # A command killed by signal N exits like a shell reports it: 128 + N.
    return 128 - returncode if returncode < 0 else returncode


if __name__ == "__main__":
    sys.exit(main())
