"""Render bench/results.json as BENCHMARKS.md and as a short console summary."""

import statistics

KINDS = ("challenge", "token", "HEAD", "GET", "DELETE", "other")
KIND_HEADERS = ("401", "token", "HEAD", "GET", "DELETE", "other")
OURS = ("playbook", "playbook-checks-off", "cleanup", "module", "module-checks-off")
# Behaviour of the pinned peer versions (bench/requirements.txt, Debian's skopeo),
# read from their sources and from skopeo --debug output.
PEER_NOTES = (
    "**skopeo** (`skopeo delete --tls-verify=false --creds USER:PASSWORD`) tries https first on the"
    " plain-http port; `--debug` shows the failed TLS handshake. That attempt is no HTTP request, so the"
    " proxy does not count it. skopeo then pings `GET /v2/`, reads the manifest with GET and deletes by"
    " digest. It exits 1 when the tag does not exist.",
    "**skopeo (token service grants \\*)** is the same skopeo while the test token service also grants"
    " the `*` action. skopeo requests a token for `repository:NAME:*` first. The test token service grants"
    " only pull, push and delete, so plain skopeo then requests a token for each action it needs.",
    "**oras-py** runs `Registry.delete_tags` from its Python API (bench/oras_delete.py, as oras-py has no"
    " command line tool), with the basic auth backend against the basic-auth registry and the token"
    " backend otherwise. Its HEAD accepts only the OCI image manifest type, so Distribution returns 404"
    " for an image index. With token auth it sends its pull token again after the DELETE got 401, and"
    " fails. It has no call that deletes a blob.",
    "**python-dxf (https)** is the `dxf` command (`del-alias`, `del-blob`) against an https front"
    " (bench/tls_front.py) that relays to the proxy, with `DXF_AUTH_HOST` pointing its token requests at"
    " the same front. Over plain http python-dxf raises DXFAuthInsecureError instead of sending"
    " credentials, as the **python-dxf (plain http)** row (`DXF_INSECURE=1`) shows. It opens a new"
    " connection for each request, so each request also pays a TLS handshake. It requests a token"
    " for the action of each 401 it gets, so a delete costs two tokens. It exits with an error when the"
    " tag does not exist.",
    "In bulk, skopeo is a shell loop of `skopeo delete`, one process per tag. oras-py and python-dxf get all"
    " tags in one process (`delete_tags`, `dxf del-alias REPO TAG...`); oras-py stops at the first failure.",
)

MODE_TITLES = {
    "token": "Token authentication",
    "basic": "Basic authentication",
    "anonymous": "No authentication",
}


def _span(values, digits=0):
    """Return "a" when all values are equal, else "min–max"."""
    low, high = min(values), max(values)
    if round(low, digits) == round(high, digits):
        return "%.*f" % (digits, low)
    return "%.*f–%.*f" % (digits, low, digits, high)


def _seconds(runs):
    values = [run["seconds"] for run in runs]
    if len(values) == 1:
        return "%.2f" % values[0]
    return "%.2f (%.2f–%.2f)" % (statistics.median(values), min(values), max(values))


def _result(runs):
    failed = [run for run in runs if not run["ok"]]
    if not failed:
        return "ok: " + runs[0]["message"]
    prefix = "fails" if len(failed) == len(runs) else "fails %d of %d" % (len(failed), len(runs))
    return "%s: %s" % (prefix, failed[0]["message"].replace("|", "\\|"))


def _kind_cells(runs):
    return [_span([run["kinds"][kind] for run in runs]) for kind in KINDS]


def _succeeded(entry):
    return "runs" in entry and all(run["ok"] for run in entry["runs"])


def _median_seconds(entry):
    return statistics.median(run["seconds"] for run in entry["runs"])


def _requests(entry):
    return max(run["total"] for run in entry["runs"])


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _names(results):
    """Return tool names by key, with ``*`` escaped for Markdown."""
    return {tool["key"]: tool["name"].replace("*", "\\*") for tool in results["tools"]}


def _in_tool_order(results, entries):
    """Yield ``(tool_key, entry)`` for the tools in ``entries``, in the order of results["tools"]."""
    for tool in results["tools"]:
        if tool["key"] in entries:
            yield tool["key"], entries[tool["key"]]


def _single_table(results, mode_results):
    names = _names(results)
    rows = []
    for operation in results["operations"]:
        for tool_key, entry in _in_tool_order(results, mode_results["single"][operation["key"]]):
            if "not_supported" in entry:
                rows.append([operation["title"], names[tool_key], "n/a"] + [""] * 6 + ["n/a: " + entry["not_supported"], ""])
                continue
            runs = entry["runs"]
            rows.append([operation["title"], names[tool_key], _span([run["total"] for run in runs])]
                        + _kind_cells(runs) + [_result(runs), _seconds(runs)])
    header = ["Operation", "Tool", "Requests"] + list(KIND_HEADERS) + ["Result", "Wall time, s: median (min–max)"]
    return _table(header, rows)


def _sequence_table(results, mode_results):
    names = _names(results)
    rows = []
    for operation in results["operations"]:
        for tool_key, entry in _in_tool_order(results, mode_results["single"][operation["key"]]):
            if "runs" not in entry:
                continue
            sequences = [tuple(run["sequence"]) for run in entry["runs"]]
            text = " → ".join(sequences[0]) or "(none)"
            if len(set(sequences)) > 1:
                text += " (first run; later runs differ)"
            rows.append([operation["title"], names[tool_key], "`%s`" % text])
    return _table(["Operation", "Tool", "Requests in order"], rows)


def _bulk_table(results, mode_results):
    names = _names(results)
    rows = []
    for size, tools in mode_results["bulk"].items():
        for tool_key, entry in _in_tool_order(results, tools):
            runs = entry["runs"]
            last = runs[-1]
            rows.append([size, names[tool_key], _span([run["total"] for run in runs])] + _kind_cells(runs)
                        + ["%.1f" % (last["total"] / int(size)), "%d of %s" % (int(size) - last["remaining"], size),
                           _result(runs), len(runs), _seconds(runs)])
    header = (["Tags", "Tool", "Requests"] + list(KIND_HEADERS)
              + ["Requests per tag", "Deleted", "Result", "Runs", "Wall time, s: median (min–max)"])
    return _table(header, rows)


def _ours(entries):
    """Return the succeeded entries of this collection's variants."""
    return {key: entry for key, entry in entries.items() if key in OURS and _succeeded(entry)}


def _cost(entry):
    if entry is None:
        return ""
    if not _succeeded(entry):
        return "fails"
    return "%d, %.2f s" % (_requests(entry), _median_seconds(entry))


def _peer_comparison(results, mode_results):
    """Return a table with the fewest requests and the fastest run per operation, among the tools that succeeded."""
    names = _names(results)
    rows = []
    for operation in results["operations"]:
        entries = mode_results["single"][operation["key"]]
        succeeded = {key: entry for key, entry in entries.items() if _succeeded(entry)}
        if not succeeded:
            continue
        fewest = min(_requests(entry) for entry in succeeded.values())
        fastest_key = min(succeeded, key=lambda key: _median_seconds(succeeded[key]))
        fewest_names = [names[key] for key, entry in _in_tool_order(results, succeeded) if _requests(entry) == fewest]
        rows.append([
            operation["title"],
            "%d: %s" % (fewest, "; ".join(fewest_names)),
            "%.2f s: %s" % (_median_seconds(succeeded[fastest_key]), names[fastest_key]),
            _cost(entries.get("module")),
            _cost(entries.get("module-checks-off")),
        ])
    header = ["Operation", "Fewest requests", "Fastest median", "oci.registry module process: requests, median",
              "same, checks off"]
    return _table(header, rows)


def peer_wins(results, mode):
    """Return sentences naming where a peer tool beats every variant of this collection that succeeded."""
    names = _names(results)
    fewer, faster = {}, {}
    for operation in results["operations"]:
        entries = results["modes"][mode]["single"][operation["key"]]
        ours = _ours(entries)
        if not ours:
            continue
        our_requests = min(_requests(entry) for entry in ours.values())
        our_seconds = min(_median_seconds(entry) for entry in ours.values())
        for key, entry in _in_tool_order(results, entries):
            if key in OURS or not _succeeded(entry):
                continue
            if _requests(entry) < our_requests:
                fewer.setdefault(key, []).append("%s (%d vs %d)" % (operation["title"], _requests(entry), our_requests))
            if round(_median_seconds(entry), 2) < round(our_seconds, 2):
                faster.setdefault(key, []).append("%s (%.2f s vs %.2f s)" % (
                    operation["title"], _median_seconds(entry), our_seconds))
    lines = ["%s sends fewer requests: %s." % (names[key], "; ".join(items)) for key, items in fewer.items()]
    lines += ["%s is faster: %s." % (names[key], "; ".join(items)) for key, items in faster.items()]
    return lines


def _machine_section(results):
    machine = results["machine"]
    lines = [
        "- Machine: %s, %d cores (nproc), %.1f GiB memory, Linux %s." % (
            machine["cpu"], machine["nproc"], machine["memory_gib"], machine["kernel"]),
        "- Load average (1, 5, 15 min) at start %s, at end %s. Other work on the machine shows up in the"
        " wall times." % (_load(results["load_average_start"]), _load(results["load_average_end"])),
    ]
    lines += ["- %s: %s" % (name, version) for name, version in results["versions"].items()]
    return "\n".join(lines)


def _load(values):
    return ", ".join("%.2f" % value for value in values)


def _duration(results):
    if results.get("make_bench_seconds") is None:
        return "The benchmark runs took %.0f s." % results["elapsed_seconds"]
    return "`make bench` took %.0f s, installs included, of which the benchmark runs took %.0f s." % (
        results["make_bench_seconds"], results["elapsed_seconds"])


def render(results):
    settings = results["settings"]
    parts = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (bench/run.py) on %s. %s Rerun `make bench` to refresh this page,"
        " bench/results.json and bench/results.png; do not edit them by hand."
        % (results["generated"], _duration(results)),
        "",
        "## Summary",
        "",
        "Requests counted at the server, median wall time per run. Details, request sequences and the"
        " other operations follow below.",
        "",
        *["- " + line for line in summary(results)],
        "",
        "## What was measured",
        "",
        "- Every tool talks to CNCF Distribution on 127.0.0.1 through the counting proxy of tests/support,"
        " which also fronts the token service. The proxy logs every request the tool sends, and the tables"
        " count them by kind: **401** is any answer 401 (a challenge), **token** a request to the token"
        " service, then HEAD, GET, DELETE and other requests that did not get 401.",
        "- Before each run the benchmark pushes the image, index, blob or tags that the run deletes. Each run"
        " is a fresh process. Afterwards HEAD (or the tag list) checks the registry out of band: a run"
        " that exits 0 but leaves its target in place counts as a failure.",
        "- Single deletes run %d times each, interleaved across tools. Wall time is the median with min and"
        " max, measured from process start to exit." % settings["repeats"],
        "- Bulk deletes run in %s mode only. Each bulk case repeats while its runs so far took less than"
        " %.0f s, at most %d times, so the slow ones run once. The Runs column gives the count."
        % (", ".join(settings["bulk_modes"]), settings["bulk_time_budget"], settings["bulk_max_repeats"]),
        "- **oci.registry (ansible-playbook)** runs `ansible-playbook` with one task (`loop:` for bulk), with"
        " the module defaults. It runs the single deletes in token mode only, to keep `make bench` under"
        " 10 minutes on 2 cores. **oci.registry (module process)** runs the module alone (`python -m`, no"
        " Ansible controller) in every mode: it sends the same requests, and its wall time shows the"
        " module's own cost.",
        "- By default oci_manifest checks, before it deletes by tag, whether other tags point to the same"
        " digest (one tag list and one HEAD per other tag) and whether referrers such as signatures point to"
        " it. **checks off** rows set `shared_tags: ignore` and `referrers: ignore`, which skips both"
        " checks and matches what the other tools do. Because every other tag costs one HEAD, a `loop:`"
        " with the defaults sends a number of requests that grows with the square of the tag count. To"
        " stay within the time budget, that loop runs on the smallest bulk size and the loop with checks"
        " off on the largest.",
        "- **oci.registry.oci_cleanup** deletes the named tags (`tags:`) in one task with its default 4"
        " workers. It lists the tags once, resolves each named tag with one HEAD (and each other tag of"
        " the repository, of which the bulk repositories have none) and deletes each digest once.",
        "",
        "How the other tools run:",
        "",
        *["- " + note for note in PEER_NOTES],
        "",
        "## Machine and versions",
        "",
        _machine_section(results),
    ]
    for mode, mode_results in results["modes"].items():
        parts += [
            "",
            "## %s" % MODE_TITLES[mode],
            "",
            _single_table(results, mode_results),
            "",
            "### Fewest requests and fastest run",
            "",
            _peer_comparison(results, mode_results),
            "",
        ]
        wins = peer_wins(results, mode)
        if wins:
            parts += ["Where another tool beats every oci.registry variant (fewest requests, fastest median):", ""]
            parts += ["- " + line for line in wins] + [""]
        parts += [
            "### Requests in order",
            "",
            "Repository paths are cut to what follows `/v2/REPOSITORY/`, digests to `sha256:…`.",
            "",
            _sequence_table(results, mode_results),
        ]
        if mode_results["bulk"]:
            parts += ["", "### Bulk deletes", "", _bulk_table(results, mode_results)]
    parts += ["", "![Requests per operation and bulk wall time](bench/results.png)", ""]
    return "\n".join(parts)


def summary(results, markdown=True):
    """Return one sentence per mode for the tag delete and one per bulk size, with requests and median time per tool."""
    names = _names(results) if markdown else {tool["key"]: tool["name"] for tool in results["tools"]}

    def describe(tool_key, entry):
        if not _succeeded(entry):
            return "%s fails" % names[tool_key]
        return "%s %d requests in %.2f s" % (names[tool_key], _requests(entry), _median_seconds(entry))

    lines = []
    for mode, mode_results in results["modes"].items():
        tag_entries = [describe(key, entry) for key, entry in _in_tool_order(results, mode_results["single"]["tag"])
                       if "runs" in entry]
        lines.append("%s, one manifest by tag: %s." % (MODE_TITLES[mode], "; ".join(tag_entries)))
        for size, tools in mode_results["bulk"].items():
            bulk_entries = [describe(key, entry) for key, entry in _in_tool_order(results, tools)]
            lines.append("%s, %s tags: %s." % (MODE_TITLES[mode], size, "; ".join(bulk_entries)))
    return lines
