# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run ``ansible-test sanity`` on a copy of the collection, without Docker or get-pip.py.

Usage (from the repository root, with the project's venv)::

    .venv/bin/python tests/sanity/run_sanity.py [ansible-test sanity options]

The script

1. copies every file that git tracks or would track (untracked files included,
   ignored ones left out), minus what ``build_ignore`` in galaxy.yml keeps out of
   the collection tarball, to ``build/sanity/ansible_collections/oci/registry``,
   because ansible-test needs that directory layout;
2. runs ``git init`` in the copy: ansible-test lists the files of the nearest
   enclosing git work tree, and without a repository of its own the copy would be
   found inside this one, where ``build/`` is ignored, and would look empty;
3. puts ``get_pip_offline.py`` and the pip wheel it installs where ansible-test
   looks for a cached get-pip.py, because the host ansible-test downloads that
   script from is not a package registry and may be unreachable;
4. adds the pyenv interpreters from Python 3.9 on to ``PATH``, so that the
   ``compile`` and ``import`` tests check module code on each installed Python
   version that ``tests/config.yml`` allows; the script stops if 3.9 is missing;
5. runs ``ansible-test sanity --local --requirements`` in the copy.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
import subprocess
import sys
import types

import yaml

REPOSITORY_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COPY_ROOT = os.path.join(REPOSITORY_ROOT, "build", "sanity")
COLLECTION_COPY = os.path.join(COPY_ROOT, "ansible_collections", "oci", "registry")
GET_PIP_OFFLINE = os.path.join(REPOSITORY_ROOT, "tests", "sanity", "get_pip_offline.py")
GET_PIP_CACHE = os.path.expanduser("~/.ansible/test/cache")
PYENV_ROOT = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
# Oldest Python that module code must run on; keep in step with tests/config.yml.
OLDEST_MODULE_PYTHON = "3.9"


def build_ignored(path, patterns):
    """Tell whether ``ansible-galaxy collection build`` leaves ``path`` out of the tarball.

    Like ansible-galaxy, match each pattern against the path and against every parent
    directory of it, because a matching directory is skipped with all its contents.
    """
    parts = path.split("/")
    prefixes = ["/".join(parts[:index]) for index in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns)


def collection_files():
    """Return the paths, relative to the repository root, that belong in the copy."""
    with open(os.path.join(REPOSITORY_ROOT, "galaxy.yml")) as handle:
        ignore_patterns = yaml.safe_load(handle).get("build_ignore") or []
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPOSITORY_ROOT, check=True, stdout=subprocess.PIPE,
    ).stdout.decode("utf-8")
    paths = sorted(set(path for path in listing.split("\0") if path))
    # A tracked file deleted from the work tree is still listed by --cached.
    return [
        path for path in paths
        if os.path.isfile(os.path.join(REPOSITORY_ROOT, path)) and not build_ignored(path, ignore_patterns)
    ]


def make_copy():
    shutil.rmtree(COPY_ROOT, ignore_errors=True)
    for path in collection_files():
        target = os.path.join(COLLECTION_COPY, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(REPOSITORY_ROOT, path), target)
    subprocess.run(["git", "init", "--quiet", COLLECTION_COPY], check=True)


def install_get_pip():
    """Put get_pip_offline.py where ansible-test looks for its cached get-pip.py.

    The pip wheel that ansible-test bootstraps goes next to it, fetched once from the
    package index, so that each new virtual environment gets pip without a download.
    """
    # ansible-test names the cache file after the pip version it bootstraps, and only
    # reads that version from a Python object's ``version`` attribute.
    from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel

    version = "%d.%d" % sys.version_info[:2]
    pip_version = get_venv_packages(types.SimpleNamespace(version=version))["pip"]
    os.makedirs(GET_PIP_CACHE, exist_ok=True)
    target = os.path.join(GET_PIP_CACHE, "get_pip_%s.py" % pip_version.replace(".", "_"))
    shutil.copyfile(GET_PIP_OFFLINE, target)
    wheel = os.path.join(GET_PIP_CACHE, "pip-%s-py3-none-any.whl" % pip_version)
    if not os.path.isfile(wheel):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             "--dest", GET_PIP_CACHE, "pip==%s" % pip_version],
            check=True,
        )


def interpreter_path():
    """Return PATH with the bin directories of the pyenv CPython 3.9 and newer in front."""
    directories = []
    for directory in sorted(glob.glob(os.path.join(PYENV_ROOT, "versions", "3.*", "bin"))):
        version = os.path.basename(os.path.dirname(directory))
        major, minor = version.split(".")[:2]
        if major.isdigit() and minor.isdigit() and (int(major), int(minor)) >= (3, 9):
            directories.append(directory)
    return os.pathsep.join(directories + [os.environ.get("PATH", "")])


def main(arguments):
    path = interpreter_path()
    oldest = shutil.which("python" + OLDEST_MODULE_PYTHON, path=path)
    # A pyenv shim exists for every installed version but fails when that version is
    # not selected, so only a run proves the interpreter usable.
    if oldest is None or subprocess.call([oldest, "-c", ""], stderr=subprocess.DEVNULL) != 0:
        sys.stderr.write(
            "python%s was not found on PATH or under %s/versions: install it (for example "
            "with pyenv) so that sanity checks module code on the oldest supported Python.\n"
            % (OLDEST_MODULE_PYTHON, PYENV_ROOT)
        )
        return 2

    make_copy()
    install_get_pip()
    ansible_test = os.path.join(os.path.dirname(sys.executable), "ansible-test")
    env = dict(os.environ, PATH=path)
    command = [ansible_test, "sanity", "--local", "--requirements", "--color", "no"] + arguments
    return subprocess.call(command, cwd=COLLECTION_COPY, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
