# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start and stop the test registry stack in the background for molecule scenarios.

``start STATE`` runs ``python -m tests.support.stack --mode token --seed`` as a
detached process, waits until it has pushed the demo images, and writes STATE: a
JSON file with the process id, the registry address, the admin credentials and the
demo facts (repository, tags and digests). ``stop STATE`` terminates that process,
which stops the registry, the token service and the proxy, and removes STATE.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STACK_MODULE = "tests.support.stack"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
POLL_SECONDS = 0.1


class StackError(RuntimeError):
    """The stack did not start, or STATE does not describe a running stack."""


def read_exports(path):
    """Return the ``export NAME=VALUE`` lines the stack printed so far, as a dict."""
    exports = {}
    with open(path) as handle:
        for line in handle:
            if line.startswith("export ") and "=" in line:
                name, separator, value = line[len("export "):].rstrip("\n").partition("=")
                exports[name] = value
    return exports


def start(state_path, mode):
    if os.path.exists(state_path):
        raise StackError("%s exists: a stack may still run. Run 'stop %s' first." % (state_path, state_path))
    log_path = state_path + ".log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", STACK_MODULE, "--mode", mode, "--seed"],
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    exports = {}
    while "OCI_DEMO_FACTS" not in exports:
        if process.poll() is not None:
            raise StackError("the stack exited with code %d at start. See its log: %s" % (process.returncode, log_path))
        if time.monotonic() > deadline:
            process.terminate()
            process.wait()
            raise StackError("the stack did not start within %.0f s. See its log: %s" % (START_TIMEOUT, log_path))
        time.sleep(POLL_SECONDS)
        exports = read_exports(log_path)
    with open(exports["OCI_DEMO_FACTS"]) as handle:
        facts = json.load(handle)
    state = {
        "pid": process.pid,
        "mode": mode,
        "registry": exports["OCI_REGISTRY"],
        "username": exports.get("OCI_USERNAME"),
        "password": exports.get("OCI_PASSWORD"),
        "facts": facts,
        "log": log_path,
    }
    with open(state_path, "w") as handle:
        json.dump(state, handle, indent=2)
    print("registry stack (pid %d) on %s" % (process.pid, state["registry"]))


def _is_our_stack(pid):
    """True while ``pid`` is a live process running the stack module (not a zombie, not a reused id)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            arguments = handle.read().split(b"\0")
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return STACK_MODULE.encode() in arguments and state != "Z"


def stop(state_path):
    if not os.path.exists(state_path):
        print("no stack state at %s; nothing to stop" % state_path)
        return
    with open(state_path) as handle:
        pid = json.load(handle)["pid"]
    if _is_our_stack(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _is_our_stack(pid):
            if time.monotonic() > deadline:
                raise StackError("the stack (pid %d) did not stop within %.0f s after SIGTERM" % (pid, STOP_TIMEOUT))
            time.sleep(POLL_SECONDS)
        print("stopped the registry stack (pid %d)" % pid)
    else:
        print("the registry stack (pid %d) was not running" % pid)
    os.remove(state_path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Start or stop the test registry stack for molecule.")
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("state", help="JSON file that describes the running stack")
    parser.add_argument("--mode", choices=("token", "basic", "anonymous"), default="token")
    arguments = parser.parse_args(argv)
    try:
        if arguments.action == "start":
            start(arguments.state, arguments.mode)
        else:
            stop(arguments.state)
    except StackError as error:
        print("error: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
