"""Run functions for the benchmarked tools, one fresh process per run.

Every run function takes a ``Context`` and a ``Target`` and returns an
``Outcome``. A target with several references is a bulk delete: each tool then
uses its own way to delete many tags (a loop, or one call with all tags).
"""

import functools
import json
import os
import re
import shlex
import subprocess
from collections import namedtuple
from dataclasses import dataclass, field

from tests.support import runner
from tests.support.registry import MODES, credentials

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
BENCH_BIN = os.path.join(BENCH_DIR, ".venv", "bin")
ORAS_SCRIPT = os.path.join(BENCH_DIR, "oras_delete.py")
CLEANUP_MODULE = os.path.join(runner.REPO_ROOT, "plugins", "modules", "oci_cleanup.py")
PROCESS_TIMEOUT = 600
MESSAGE_LENGTH = 110

Outcome = namedtuple("Outcome", ["ok", "message"])
"""Whether a run reported success, and a short message (the error, or what it did)."""


@dataclass(frozen=True)
class Target:
    """Target of one run: a repository, ``kind`` ("tag", "digest" or "blob") and the references to delete."""

    repository: str
    kind: str
    references: tuple
    check_mode: bool = False


@dataclass
class Context:
    """The registry stack of one auth mode, the https front for python-dxf and a scratch directory."""

    stack: object
    front: object
    ca_path: str
    workdir: str


def _short(text):
    """Return ``text`` on one line, with loopback addresses shortened to REGISTRY, cut to MESSAGE_LENGTH."""
    text = re.sub(r"(https?://)?127\.0\.0\.1:\d+", "REGISTRY", " ".join(text.split()))
    return text if len(text) <= MESSAGE_LENGTH else text[:MESSAGE_LENGTH - 1] + "…"


def _last_error_line(output):
    """Return the line of ``output`` that explains a failure, with skopeo's log prefix removed."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return "no output"
    line = lines[-1]
    logged = re.search(r'msg="(.*)"', line)
    return logged.group(1) if logged else line


def run_process(argv, extra_env=None):
    """Run ``argv`` and return an Outcome from its exit status and the last line of its error output."""
    env = dict(os.environ, **(extra_env or {}))
    completed = subprocess.run(
        argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=PROCESS_TIMEOUT, check=False
    )
    if completed.returncode == 0:
        return Outcome(True, "exit 0")
    return Outcome(False, _short("exit %d: %s" % (completed.returncode, _last_error_line(completed.stderr or completed.stdout))))


def _admin(ctx):
    return credentials(ctx.stack, "admin")


# This collection

_MODULE_FOR_KIND = {"tag": "oci_manifest", "digest": "oci_manifest", "blob": "oci_blob"}

# oci_manifest options that turn off the checks for other tags on the same digest
# and for referrers. The other tools make no such checks.
CHECKS_OFF = {"shared_tags": "ignore", "referrers": "ignore"}


def _module_args(ctx, target, reference, manifest_options):
    args = {"registry": ctx.stack.address, "plain_http": True, "repository": target.repository, "state": "absent"}
    args.update(_admin(ctx))
    args["tag" if target.kind == "tag" else "digest"] = reference
    if _MODULE_FOR_KIND[target.kind] == "oci_manifest":
        args.update(manifest_options)
    return args


def _result_outcome(result):
    if result.get("failed"):
        return Outcome(False, _short("failed: %s" % result.get("msg", "no message")))
    return Outcome(True, "changed" if result.get("changed") else "not changed")


def _run_play(ctx, task, check_mode):
    path = os.path.join(ctx.workdir, "bench-play.yml")
    with open(path, "w") as handle:
        json.dump([{"name": "benchmark", "hosts": "localhost", "gather_facts": False, "tasks": [task]}], handle)
    document = runner.run_playbook(path, check=check_mode)
    if not document["tasks"]:
        return Outcome(False, _short("ansible-playbook exit %d: %s" % (document["rc"], document["stderr"])))
    result = dict(document["tasks"][0]["result"])
    if result.get("failed") and "results" in result:
        failed_items = [item for item in result["results"] if item.get("failed")]
        result["msg"] = "%d of %d items failed, first: %s" % (
            len(failed_items), len(result["results"]), failed_items[0].get("msg") if failed_items else "none")
    return _result_outcome(result)


def run_playbook_task(ctx, target, manifest_options=None):
    """Delete with one ansible-playbook task. Bulk targets use ``loop:``."""
    bulk = len(target.references) > 1
    args = _module_args(ctx, target, "{{ item }}" if bulk else target.references[0], manifest_options or {})
    task = {"name": "delete", "oci.registry." + _MODULE_FOR_KIND[target.kind]: args}
    if bulk:
        task["loop"] = list(target.references)
    return _run_play(ctx, task, target.check_mode)


def run_cleanup_task(ctx, target):
    """Delete every tag of the target with one oci_cleanup task in one ansible-playbook run."""
    args = {"registry": ctx.stack.address, "plain_http": True, "repositories": [target.repository],
            "tags": list(target.references)}
    args.update(_admin(ctx))
    return _run_play(ctx, {"name": "delete", "oci.registry.oci_cleanup": args}, target.check_mode)


def run_module_process(ctx, target, manifest_options=None):
    """Delete with the module alone, run as ``python -m <module> ARGSFILE`` without the Ansible controller."""
    args = _module_args(ctx, target, target.references[0], manifest_options or {})
    result = runner.run_module(_MODULE_FOR_KIND[target.kind], args, check_mode=target.check_mode)
    return _result_outcome(result)


# skopeo

def run_skopeo(ctx, target):
    """Delete with ``skopeo delete``. Bulk targets run one skopeo process per tag in a shell loop."""
    argv = ["skopeo", "delete", "--tls-verify=false"]
    if _admin(ctx):
        argv += ["--creds", "%(username)s:%(password)s" % _admin(ctx)]
    separator = "@" if target.kind == "digest" else ":"
    images = ["docker://%s/%s%s%s" % (ctx.stack.address, target.repository, separator, reference)
              for reference in target.references]
    if len(images) == 1:
        return run_process(argv + images)
    script = 'status=0; for image do %s "$image" || status=$?; done; exit $status' % shlex.join(argv)
    return run_process(["sh", "-c", script, "sh"] + images)


# oras-py

def run_oras(ctx, target):
    """Delete with bench/oras_delete.py, which passes every reference to ``delete_tags`` in one process."""
    backend = "basic" if ctx.stack.mode == "basic" else "token"
    env = {}
    if _admin(ctx):
        env = {"BENCH_USERNAME": _admin(ctx)["username"], "BENCH_PASSWORD": _admin(ctx)["password"]}
    argv = [os.path.join(BENCH_BIN, "python"), ORAS_SCRIPT, "--auth-backend", backend,
            ctx.stack.address, target.repository] + list(target.references)
    return run_process(argv, env)


# python-dxf

def _dxf(env, target):
    operation = "del-blob" if target.kind == "blob" else "del-alias"
    return run_process([os.path.join(BENCH_BIN, "dxf"), operation, target.repository] + list(target.references), env)


def _dxf_credentials(ctx):
    if not _admin(ctx):
        return {}
    return {"DXF_USERNAME": _admin(ctx)["username"], "DXF_PASSWORD": _admin(ctx)["password"]}


def run_dxf(ctx, target):
    """Delete with the ``dxf`` command over https through the TLS front. Bulk targets pass every tag to one process."""
    env = {"DXF_HOST": ctx.front.address, "DXF_AUTH_HOST": ctx.front.address, "DXF_TLSVERIFY": ctx.ca_path,
           "DXF_PROGRESS": "0"}
    env.update(_dxf_credentials(ctx))
    return _dxf(env, target)


def run_dxf_plain_http(ctx, target):
    """Delete with the ``dxf`` command over plain http (DXF_INSECURE=1), straight to the proxy."""
    env = {"DXF_HOST": ctx.stack.address, "DXF_INSECURE": "1", "DXF_PROGRESS": "0"}
    env.update(_dxf_credentials(ctx))
    return _dxf(env, target)


# The table of tools

NO_DRY_RUN = "no dry-run"


@dataclass(frozen=True)
class Tool:
    """A benchmarked client.

    ``not_supported`` maps operation keys to the reason the tool cannot run
    them. ``only`` maps an auth mode to the single operations the tool takes
    part in there, and in modes it does not name the tool takes part in every
    operation. ``bulk_sizes`` lists the bulk deletes (tag counts) it runs.
    """

    key: str
    name: str
    run: object
    not_supported: dict = field(default_factory=dict)
    only: dict = field(default_factory=dict)
    modes: tuple = MODES
    bulk_sizes: tuple = ()
    grants_wildcard: bool = False

    def shows(self, mode, operation_key):
        """Return whether the operation gets a row for this tool in ``mode``, as a run or as not supported."""
        operations = self.only.get(mode)
        return operations is None or operation_key in operations


TAG_ONLY = frozenset(["tag"])
NO_SINGLE = frozenset()
# Operations where CHECKS_OFF changes the requests. A blob delete or a missing tag costs the same either way.
MANIFEST_FOUND = frozenset(["tag", "digest", "index", "check"])


def all_tools(bulk_sizes):
    """Return the benchmarked tools; oci_cleanup joins when plugins/modules/oci_cleanup.py exists.

    Each ansible-playbook run costs about 1.5 s of controller start-up, and each
    loop item about 0.7 s, on a 2-core machine. To keep ``make bench`` within 10
    minutes, ansible-playbook runs the single deletes in token mode only, where
    the module process shows the same requests in every mode. The loop with the
    default checks runs on the smallest bulk size, the loop with checks off on
    the largest.
    """
    smallest, largest = tuple(bulk_sizes[:1]), tuple(bulk_sizes[-1:])
    tools = [
        Tool("playbook", "oci.registry (ansible-playbook)", run_playbook_task,
             only={"basic": NO_SINGLE, "anonymous": NO_SINGLE}, bulk_sizes=smallest),
        Tool("playbook-checks-off", "oci.registry (ansible-playbook, checks off)",
             functools.partial(run_playbook_task, manifest_options=CHECKS_OFF),
             only=dict.fromkeys(MODES, NO_SINGLE), bulk_sizes=largest),
        Tool("module", "oci.registry (module process)", run_module_process),
        Tool("module-checks-off", "oci.registry (module process, checks off)",
             functools.partial(run_module_process, manifest_options=CHECKS_OFF),
             only=dict.fromkeys(MODES, MANIFEST_FOUND)),
        Tool("skopeo", "skopeo", run_skopeo, {"blob": "no blob delete", "check": NO_DRY_RUN},
             bulk_sizes=tuple(bulk_sizes)),
        Tool("skopeo-wildcard", "skopeo (token service grants *)", run_skopeo,
             {"blob": "no blob delete", "check": NO_DRY_RUN}, modes=("token",), grants_wildcard=True),
        Tool("oras", "oras-py", run_oras, {"blob": "no blob delete call", "check": NO_DRY_RUN},
             bulk_sizes=tuple(bulk_sizes)),
        Tool("dxf", "python-dxf (https)", run_dxf, {"check": NO_DRY_RUN}, bulk_sizes=tuple(bulk_sizes)),
        Tool("dxf-http", "python-dxf (plain http)", run_dxf_plain_http, only=dict.fromkeys(MODES, TAG_ONLY)),
    ]
    if os.path.exists(CLEANUP_MODULE):
        tools.insert(2, Tool("cleanup", "oci.registry.oci_cleanup (ansible-playbook)", run_cleanup_task,
                             only=dict.fromkeys(MODES, NO_SINGLE), bulk_sizes=tuple(bulk_sizes)))
    return tools
