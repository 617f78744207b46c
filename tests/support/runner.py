"""Run the collection's modules and playbooks for real, as subprocesses.

``run_module`` executes a module the way Ansible's debugging entry point does
(``python -m <module> ARGSFILE``) and returns the JSON result it prints.
``run_playbook`` runs ``ansible-playbook`` with the ``result_json`` stdout
callback from ``tests/support/callback_plugins`` and returns its document.
"""

import json
import os
import subprocess
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS_PATH = os.path.join(REPO_ROOT, "build", "collections")
COLLECTION_LINK = os.path.join(COLLECTIONS_PATH, "ansible_collections", "oci", "registry")
CALLBACK_PLUGINS = os.path.join(REPO_ROOT, "tests", "support", "callback_plugins")
MODULE_PACKAGE = "ansible_collections.oci.registry.plugins.modules"
# ansible-playbook from the same environment as the running interpreter (the venv).
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


class RunnerError(RuntimeError):
    """A module or playbook printed something that is not the expected JSON document."""


def ensure_collection_link():
    """Create build/collections/ansible_collections/oci/registry -> repository root, as ``make collection`` does."""
    if os.path.islink(COLLECTION_LINK) or os.path.isdir(COLLECTION_LINK):
        return
    os.makedirs(os.path.dirname(COLLECTION_LINK), exist_ok=True)
    os.symlink(REPO_ROOT, COLLECTION_LINK)


def _environment(env):
    merged = dict(os.environ)
    merged["PYTHONPATH"] = os.pathsep.join(filter(None, [COLLECTIONS_PATH, os.environ.get("PYTHONPATH")]))
    merged["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS_PATH
    merged["PYTHONDONTWRITEBYTECODE"] = "1"
    merged.update(env or {})
    return merged


def run_python_module(dotted_name, args, *, check_mode=False, diff=False, env=None, timeout=120):
    """Run any Ansible module by its Python module name and return its parsed result."""
    ensure_collection_link()
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="module-args-") as args_file:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, args_file)
        args_file.flush()
        completed = subprocess.run(
            [sys.executable, "-m", dotted_name, args_file.name],
            capture_output=True, text=True, check=False, env=_environment(env), timeout=timeout, cwd=REPO_ROOT,
        )
    try:
        result = json.loads(completed.stdout)
    except ValueError:
        raise RunnerError(
            "%s exited with code %d without printing a JSON result.\nstdout:\n%s\nstderr:\n%s"
            % (dotted_name, completed.returncode, completed.stdout, completed.stderr)
        ) from None
    if not isinstance(result, dict):
        raise RunnerError("%s printed %r, expected a JSON object" % (dotted_name, result))
    return result


def run_module(name, args, *, check_mode=False, diff=False, env=None, timeout=120):
    """Run the collection module ``name`` (e.g. "oci_manifest") with ``args`` and return its result.

    A failed module returns normally with ``failed: true`` and ``msg``. RunnerError
    is raised only when stdout is not one JSON object, for example after a traceback.
    """
    return run_python_module(
        "%s.%s" % (MODULE_PACKAGE, name), args, check_mode=check_mode, diff=diff, env=env, timeout=timeout
    )


def run_playbook(path, *, extravars=None, check=False, env=None, timeout=600):
    """Run ``ansible-playbook`` on ``path`` against localhost and return the run as a dict.

    The dict has ``tasks`` (one entry per task and host with ``play``, ``task``,
    ``action``, ``host``, ``status`` and ``result``), ``stats`` (the play recap
    per host) and ``rc`` (the exit code of ansible-playbook).
    """
    ensure_collection_link()
    playbook_env = {
        "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_PLUGINS,
        "ANSIBLE_STDOUT_CALLBACK": "result_json",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        # Tasks run with the venv's interpreter, not one found by interpreter discovery.
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
    }
    playbook_env.update(env or {})
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", str(path)]
    if check:
        command.append("--check")
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="extravars-") as extravars_file:
        if extravars:
            json.dump(extravars, extravars_file)
            extravars_file.flush()
            command += ["--extra-vars", "@" + extravars_file.name]
        completed = subprocess.run(
            command, capture_output=True, text=True, check=False, env=_environment(playbook_env), timeout=timeout, cwd=REPO_ROOT
        )
    try:
        document = json.loads(completed.stdout)
    except ValueError:
        raise RunnerError(
            "ansible-playbook exited with code %d without the result_json document.\nstdout:\n%s\nstderr:\n%s"
            % (completed.returncode, completed.stdout, completed.stderr)
        ) from None
    document["rc"] = completed.returncode
    document["stderr"] = completed.stderr
    return document


def warning_messages(result):
    """Return the text of each warning in a module result.

    ansible-core 2.19 reports warnings as WarningSummary dicts; older releases as strings.
    """
    return [item if isinstance(item, str) else item["event"]["msg"] for item in result.get("warnings", [])]
