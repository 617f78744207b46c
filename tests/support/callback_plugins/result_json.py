# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stdout callback that prints the whole playbook run as one JSON document at the end.

tests.support.runner.run_playbook loads it through ANSIBLE_CALLBACK_PLUGINS and
ANSIBLE_STDOUT_CALLBACK=result_json, then parses stdout with json.loads.
"""

from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: result_json
    type: stdout
    short_description: one JSON document with every task result and the play recap
    description:
      - Used by the collection's integration tests to assert on task results.
"""


def _plain_result(result):
    """Return the task result as plain JSON types, without Ansible's internal keys."""
    plain = json.loads(json.dumps(dict(result), default=str))
    return {key: value for key, value in plain.items() if not key.startswith("_ansible")}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "result_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tasks = []
        self._play = None

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def _record(self, result, status):
        self._tasks.append(
            {
                "play": self._play,
                "task": result.task.get_name(),
                "action": result.task.action,
                "host": result.host.get_name(),
                "status": status,
                "result": _plain_result(result.result),
            }
        )

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        recap = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._display.display(json.dumps({"tasks": self._tasks, "stats": recap}, sort_keys=True))
