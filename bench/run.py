"""Compare this collection's deletes with skopeo, oras-py and python-dxf on local registries.

For each auth mode (token, basic, anonymous) this starts a RegistryStack from
tests/support, which is CNCF Distribution behind a counting proxy on 127.0.0.1.
Before every run it pushes the image, index, blob or tags that the run
deletes. It then runs one tool as a fresh process and reads the proxy's log
of that run. Afterwards it checks the registry out of band, so a run counts
as a success only when the target is really gone.

Writes bench/results.json, BENCHMARKS.md and bench/results.png. ``make bench``
installs what it needs first, then runs ``python -m bench.run``.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from bench import report
from bench.seed import Seeder
from bench.tls_front import TlsFront
from bench.tools import BENCH_BIN, BENCH_DIR, Context, Outcome, Target, all_tools
from tests.support import images, runner, tokenservice
from tests.support.registry import MODES, REGISTRY_BINARY, RegistryStack
from tests.support.tls import write_tls_files

RESULTS_JSON = os.path.join(BENCH_DIR, "results.json")
CHART_PNG = os.path.join(BENCH_DIR, "results.png")
BENCHMARKS_MD = os.path.join(runner.REPO_ROOT, "BENCHMARKS.md")

REPEATS = 5
BULK_SIZES = (50, 200)
BULK_MODES = ("token",)
# A bulk case repeats while its runs so far took less than the budget, at most
# BULK_MAX_REPEATS times. An ansible-playbook loop over 50 tags takes 30 s or more
# on a 2-core machine, so it runs once.
BULK_MAX_REPEATS = 3
BULK_TIME_BUDGET = 3.0


@dataclass(frozen=True)
class Operation:
    """A single delete: ``prepare(seeder, repository)`` pushes what it deletes and returns the Target.

    ``expected_status`` is the status of HEAD on the target afterwards, or None
    when there is nothing to check.
    """

    key: str
    title: str
    prepare: object
    expected_status: object


def _prepare_tag(seeder, repository):
    seeder.image(repository, ["v1"])
    return Target(repository, "tag", ("v1",))


def _prepare_digest(seeder, repository):
    return Target(repository, "digest", tuple(seeder.image(repository, ["v1"])))


def _prepare_index(seeder, repository):
    seeder.index(repository, "multi")
    return Target(repository, "tag", ("multi",))


def _prepare_blob(seeder, repository):
    return Target(repository, "blob", (seeder.blob(repository, os.urandom(1024)),))


def _prepare_missing(seeder, repository):
    seeder.image(repository, ["v1"])
    return Target(repository, "tag", ("no-such-tag",))


def _prepare_check(seeder, repository):
    seeder.image(repository, ["v1"])
    return Target(repository, "tag", ("v1",), check_mode=True)


OPERATIONS = (
    Operation("tag", "manifest by tag", _prepare_tag, 404),
    Operation("digest", "manifest by digest", _prepare_digest, 404),
    Operation("index", "multi-arch index by tag", _prepare_index, 404),
    Operation("blob", "blob", _prepare_blob, 404),
    Operation("missing", "tag that does not exist", _prepare_missing, None),
    Operation("check", "check mode, by tag", _prepare_check, 200),
)


def prepare_bulk(seeder, repository, count):
    """Push ``count`` tags t000... onto distinct manifests, so that deleting one tag leaves the others."""
    tags = tuple("t%03d" % index for index in range(count))
    seeder.image(repository, tags)
    return Target(repository, "tag", tags)


# Request log

def request_kind(record):
    """Sort a proxy record into challenge (any 401), token, HEAD, GET, DELETE or other."""
    if record.status == 401:
        return "challenge"
    if record.upstream == "token":
        return "token"
    return record.method if record.method in ("HEAD", "GET", "DELETE") else "other"


def describe_request(record, repository):
    """Return "METHOD TARGET STATUS", with the repository prefix and digest hex cut from TARGET."""
    if record.upstream == "token":
        target = "/token"
    else:
        target = record.path
        prefix = "/v2/%s/" % repository
        if target.startswith(prefix):
            target = target[len(prefix):]
        target = re.sub(r"sha256([:-])[0-9a-f]{64}", r"sha256\1…", target)
    return "%s %s %d" % (record.method, target, record.status)


def _kinds(records):
    counts = dict.fromkeys(report.KINDS, 0)
    for record in records:
        counts[request_kind(record)] += 1
    return counts


# Runs

@contextlib.contextmanager
def wildcard_granted(enabled):
    """Let the token service grant admin the ``*`` action while the block runs.

    skopeo requests a token for ``repository:NAME:*`` first. The test token
    service grants only pull, push and delete, so skopeo then requests a token
    for each action it needs. Registries
    whose token service grants ``*`` save skopeo those extra token requests.
    """
    actions = tokenservice.ALLOWED_ACTIONS["admin"]["repository"]
    if enabled:
        actions.add("*")
    try:
        yield
    finally:
        actions.discard("*")


def _head_status(stack, target, reference):
    if target.kind == "blob":
        return images.blob_status(stack, target.repository, reference)
    return images.manifest_status(stack, target.repository, reference)


def measure(ctx, tool, target, expected_status, keep_sequence):
    """Run ``tool`` once on ``target`` and return the run record."""
    stack = ctx.stack
    stack.proxy.reset()
    with wildcard_granted(tool.grants_wildcard):
        started = time.perf_counter()
        try:
            outcome = tool.run(ctx, target)
        except subprocess.TimeoutExpired as error:
            outcome = Outcome(False, "timed out after %.0f s" % error.timeout)
        seconds = time.perf_counter() - started
    records = stack.proxy.log
    run = {"seconds": round(seconds, 4), "total": len(records), "kinds": _kinds(records)}
    if keep_sequence:
        run["sequence"] = [describe_request(record, target.repository) for record in records]

    if len(target.references) > 1:
        remaining = set(target.references) & set(images.tag_list(stack, target.repository))
        run["remaining"] = len(remaining)
        if outcome.ok and remaining:
            outcome = Outcome(False, "exit 0, but %d of %d tags remain" % (len(remaining), len(target.references)))
    elif expected_status is not None:
        status = _head_status(stack, target, target.references[0])
        if outcome.ok and status != expected_status:
            outcome = Outcome(False, "%s, but HEAD on the target returns %d" % (outcome.message, status))
    run["ok"], run["message"] = outcome.ok, outcome.message
    return run


def run_single(ctx, seeder, tools, repeats, results):
    """Run every supported (tool, operation) pair ``repeats`` times, interleaved so load spikes spread out."""
    planned = []
    for operation in OPERATIONS:
        for tool in tools:
            if not tool.shows(ctx.stack.mode, operation.key):
                continue
            if operation.key in tool.not_supported:
                results[operation.key][tool.key] = {"not_supported": tool.not_supported[operation.key]}
            else:
                results[operation.key][tool.key] = {"runs": []}
                planned.append((operation, tool))
    for repetition in range(repeats):
        started = time.monotonic()
        for operation, tool in planned:
            repository = "bench/%s/%s" % (tool.key, operation.key)
            target = operation.prepare(seeder, repository)
            run = measure(ctx, tool, target, operation.expected_status, keep_sequence=True)
            results[operation.key][tool.key]["runs"].append(run)
        print("  %s: repetition %d/%d of the single deletes took %.1f s"
              % (ctx.stack.mode, repetition + 1, repeats, time.monotonic() - started), flush=True)


def run_bulk(ctx, seeder, tools, sizes, results):
    for size in sizes:
        for tool in tools:
            if size not in tool.bulk_sizes:
                continue
            runs = []
            while len(runs) < BULK_MAX_REPEATS and sum(run["seconds"] for run in runs) < BULK_TIME_BUDGET:
                repository = "bench/%s/bulk-%d-%d" % (tool.key, size, len(runs))
                target = prepare_bulk(seeder, repository, size)
                runs.append(measure(ctx, tool, target, None, keep_sequence=False))
            results[str(size)][tool.key] = {"runs": runs}
            last = runs[-1]
            print("  %s: %d tags with %s: %d run(s), median %.2f s, %d requests, %s"
                  % (ctx.stack.mode, size, tool.name, len(runs), statistics.median(r["seconds"] for r in runs),
                     last["total"], last["message"]), flush=True)


def run_mode(mode, tools, repeats, bulk_sizes):
    tools = [tool for tool in tools if mode in tool.modes]
    with tempfile.TemporaryDirectory(prefix="oci-bench-%s-" % mode) as workdir:
        front_dir = os.path.join(workdir, "front")
        os.makedirs(front_dir)
        tls_files = write_tls_files(front_dir)
        with RegistryStack(mode, os.path.join(workdir, "registry")) as stack, \
                TlsFront(stack.address, tls_files.server_cert, tls_files.server_key) as front:
            ctx = Context(stack, front, tls_files.ca_cert, workdir)
            print("%s mode: registry stack on %s, https front for python-dxf on %s"
                  % (mode, stack.address, front.address), flush=True)
            single = {operation.key: {} for operation in OPERATIONS}
            seeder = Seeder(stack)
            run_single(ctx, seeder, tools, repeats, single)
            bulk = {}
            if mode in BULK_MODES:
                bulk = {str(size): {} for size in bulk_sizes}
                run_bulk(ctx, seeder, tools, bulk_sizes, bulk)
    return {"single": single, "bulk": bulk}


# Machine and versions

def _command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    except OSError as error:
        return "unavailable (%s)" % error


def machine_facts():
    model = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gib": round(memory_kib / 1024 / 1024, 1),
            "kernel": platform.release()}


def tool_versions():
    bench_python = os.path.join(BENCH_BIN, "python")
    peer_versions = json.loads(_command_output([
        bench_python, "-c",
        "import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in "
        "('oras', 'python-dxf', 'matplotlib', 'requests')}))",
    ]))
    import ansible.release

    return {
        "CNCF Distribution (Debian docker-registry)": _command_output([REGISTRY_BINARY, "--version"]).split()[-1],
        "ansible-core": ansible.release.__version__,
        "skopeo (Debian)": _command_output(["skopeo", "--version"]).split()[-1],
        "oras": peer_versions["oras"],
        "python-dxf": peer_versions["python-dxf"],
        "requests (oras-py, python-dxf)": peer_versions["requests"],
        "matplotlib": peer_versions["matplotlib"],
        "Python": platform.python_version(),
    }


def check_prerequisites():
    missing = []
    if shutil.which("skopeo") is None:
        missing.append("skopeo (Debian package)")
    for name in ("python", "dxf"):
        if not os.path.exists(os.path.join(BENCH_BIN, name)):
            missing.append(os.path.join(BENCH_BIN, name))
    if missing:
        sys.exit("missing: %s. Run `make bench`, which installs them." % ", ".join(missing))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated auth modes (default: all)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs per single delete (default: %(default)s)")
    parser.add_argument("--bulk-sizes", default=",".join(str(size) for size in BULK_SIZES),
                        help="comma-separated tag counts for bulk deletes, empty for none (default: %(default)s)")
    return parser.parse_args(argv)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    arguments = parse_arguments(argv)
    check_prerequisites()
    # Shells start background jobs with SIGINT ignored. Restore it, and turn SIGTERM
    # into KeyboardInterrupt too, so the registry stacks always stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    started = time.monotonic()
    modes = [mode for mode in arguments.modes.split(",") if mode]
    bulk_sizes = [int(size) for size in arguments.bulk_sizes.split(",") if size]
    tools = all_tools(bulk_sizes)
    results = {
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_facts(),
        "versions": tool_versions(),
        "load_average_start": list(os.getloadavg()),
        "settings": {"repeats": arguments.repeats, "bulk_sizes": bulk_sizes, "bulk_modes": list(BULK_MODES),
                     "bulk_max_repeats": BULK_MAX_REPEATS, "bulk_time_budget": BULK_TIME_BUDGET},
        "operations": [{"key": operation.key, "title": operation.title} for operation in OPERATIONS],
        "tools": [{"key": tool.key, "name": tool.name} for tool in tools],
        "modes": {},
    }
    for mode in modes:
        results["modes"][mode] = run_mode(mode, tools, arguments.repeats, bulk_sizes)
    results["load_average_end"] = list(os.getloadavg())
    results["elapsed_seconds"] = round(time.monotonic() - started, 1)
    # `make bench` passes its start time, so the report can include the installs.
    if os.environ.get("BENCH_STARTED"):
        results["make_bench_seconds"] = round(time.time() - float(os.environ["BENCH_STARTED"]))

    with open(RESULTS_JSON, "w") as handle:
        json.dump(results, handle, indent=1)
    with open(BENCHMARKS_MD, "w") as handle:
        handle.write(report.render(results))
    subprocess.run([os.path.join(BENCH_BIN, "python"), os.path.join(BENCH_DIR, "chart.py"), RESULTS_JSON, CHART_PNG],
                   check=True)
    print("wrote %s, %s and %s" % (os.path.relpath(BENCHMARKS_MD), os.path.relpath(RESULTS_JSON),
                                   os.path.relpath(CHART_PNG)))
    for line in report.summary(results, markdown=False):
        print(line)
    print("benchmark runs took %.0f s" % results["elapsed_seconds"])


if __name__ == "__main__":
    main()
