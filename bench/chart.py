"""Draw bench/results.png from bench/results.json with matplotlib.

Runs with the interpreter of bench/.venv, which has matplotlib:
``bench/.venv/bin/python bench/chart.py RESULTS_JSON OUTPUT_PNG``.
One panel per auth mode shows requests per single delete and tool, and a last
panel shows the wall time of bulk deletes. Hatched bars are failed runs.
"""

import json
import statistics
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

# This collection in blues, each peer in its own hue, variants of a peer lighter.
COLORS = {
    "playbook": "#08519c",
    "playbook-checks-off": "#6baed6",
    "cleanup": "#17becf",
    "module": "#3182bd",
    "module-checks-off": "#9ecae1",
    "skopeo": "#e6550d",
    "skopeo-wildcard": "#fdae6b",
    "oras": "#31a354",
    "dxf": "#756bb1",
    "dxf-http": "#bcbddc",
}
OTHER_COLOR = "#636363"


def _bar(axis, x, height, width, color, ok, label=None):
    axis.bar(x, height, width, color=color if ok else "white", edgecolor=color, hatch=None if ok else "///",
             linewidth=1.2, label=label)


def _tool_colors(results):
    return {tool["key"]: COLORS.get(tool["key"], OTHER_COLOR) for tool in results["tools"]}


def draw_requests(axis, results, mode, colors):
    single = results["modes"][mode]["single"]
    operations = results["operations"]
    tools = [tool for tool in results["tools"]
             if any("runs" in single[operation["key"]].get(tool["key"], {}) for operation in operations)]
    width = 0.85 / len(tools)
    for tool_index, tool in enumerate(tools):
        for op_index, operation in enumerate(operations):
            entry = single[operation["key"]].get(tool["key"], {})
            if "runs" not in entry:
                continue
            requests = max(run["total"] for run in entry["runs"])
            ok = all(run["ok"] for run in entry["runs"])
            x = op_index - 0.425 + width * (tool_index + 0.5)
            _bar(axis, x, requests, width, colors[tool["key"]], ok)
            axis.text(x, requests + 0.1, str(requests), ha="center", va="bottom", fontsize=6)
    axis.set_xticks(range(len(operations)))
    axis.set_xticklabels([textwrap.fill(operation["title"], 14) for operation in operations], fontsize=7)
    axis.set_ylabel("HTTP requests")
    axis.set_title("%s mode: requests per delete" % mode, fontsize=10)
    axis.grid(axis="y", alpha=0.3)


def draw_bulk(axis, results, colors):
    cases = [(mode, size, tools) for mode, mode_results in results["modes"].items()
             for size, tools in mode_results["bulk"].items()]
    if not cases:
        axis.set_axis_off()
        return
    tool_keys = [tool["key"] for tool in results["tools"] if any(tool["key"] in case[2] for case in cases)]
    width = 0.85 / len(tool_keys)
    for case_index, (mode, size, tools) in enumerate(cases):
        for tool_index, key in enumerate(tool_keys):
            if key not in tools:
                continue
            runs = tools[key]["runs"]
            seconds = statistics.median(run["seconds"] for run in runs)
            x = case_index - 0.425 + width * (tool_index + 0.5)
            _bar(axis, x, seconds, width, colors[key], all(run["ok"] for run in runs))
            axis.text(x, seconds * 1.08, "%.1f" % seconds, ha="center", va="bottom", fontsize=6, rotation=90)
    axis.set_yscale("log")
    axis.set_xticks(range(len(cases)))
    axis.set_xticklabels(["%s tags (%s)" % (case[1], case[0]) for case in cases], fontsize=8)
    axis.set_ylabel("wall time, s (log scale)")
    axis.set_title("Bulk delete: wall time", fontsize=10)
    axis.grid(axis="y", alpha=0.3)
    axis.set_ylim(top=axis.get_ylim()[1] * 3)


def main(results_path, output_path):
    with open(results_path) as handle:
        results = json.load(handle)
    colors = _tool_colors(results)
    modes = list(results["modes"])
    panels = len(modes) + 1
    columns = 2
    rows = (panels + 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(15, 5 * rows), squeeze=False)
    flat = [axis for row in axes for axis in row]
    for axis, mode in zip(flat, modes):
        draw_requests(axis, results, mode, colors)
    draw_bulk(flat[len(modes)], results, colors)
    for axis in flat[panels:]:
        axis.set_axis_off()

    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[tool["key"]]) for tool in results["tools"]]
    labels = [tool["name"] for tool in results["tools"]]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black", hatch="///"))
    labels.append("failed (hatched)")
    figure.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    figure.suptitle("oci.registry vs. skopeo, oras-py, python-dxf on CNCF Distribution %s"
                    % results["versions"]["CNCF Distribution (Debian docker-registry)"], fontsize=12)
    figure.tight_layout(rect=(0, 0.06, 1, 0.96))
    figure.savefig(output_path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
