# -*- coding: utf-8 -*-
# Copyright (c) oci.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bootstrap pip into an empty virtual environment without downloading get-pip.py.

ansible-test creates its per-test virtual environments without pip and runs
``python get-pip.py [pip install arguments] --no-setuptools --no-wheel`` in them.
It downloads that script from a host outside the package registries unless a copy
sits at ``~/.ansible/test/cache/get_pip_<pip version>.py``; tests/sanity/run_sanity.py
puts this file there, next to the pip wheel that ansible-test requests.

With that wheel, pip runs from the wheel itself and installs it with
``--no-index``. Without it, the pip that ships with Python (``ensurepip``) installs
the requested version from the configured package index.
"""

from __future__ import annotations

import os
import subprocess
import sys

# Options that only get-pip.py understands; ``pip install`` rejects them.
GET_PIP_OPTIONS = {"--no-setuptools": "setuptools", "--no-wheel": "wheel"}
CACHE_DIR = os.path.dirname(os.path.abspath(__file__))


def cached_pip_wheel(pip_arguments):
    """Return the cached wheel when the only requested package is ``pip==VERSION``, else None."""
    packages = [argument for argument in pip_arguments if not argument.startswith("-")]
    if len(packages) != 1 or not packages[0].startswith("pip=="):
        return None
    wheel = os.path.join(CACHE_DIR, "pip-%s-py3-none-any.whl" % packages[0][len("pip=="):])
    return wheel if os.path.isfile(wheel) else None


def install_with_ensurepip(pip_arguments, unwanted):
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    # ensurepip of Python 3.11 and older also installs setuptools, which get-pip.py
    # leaves out when given --no-setuptools.
    if unwanted:
        subprocess.check_call(
            [sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet"] + unwanted,
            stderr=subprocess.DEVNULL,
        )
    return subprocess.call([sys.executable, "-m", "pip", "install"] + pip_arguments)


def main(argv):
    pip_arguments = [argument for argument in argv if argument not in GET_PIP_OPTIONS]
    unwanted = [GET_PIP_OPTIONS[argument] for argument in argv if argument in GET_PIP_OPTIONS]

    wheel = cached_pip_wheel(pip_arguments)
    if wheel is None:
        return install_with_ensurepip(pip_arguments, unwanted)
    # pip/__main__.py supports running from inside its own wheel, as in
    # ``python pip-VERSION-py3-none-any.whl/pip install ...``.
    command = [sys.executable, os.path.join(wheel, "pip"), "install", "--no-index", "--find-links", CACHE_DIR]
    return subprocess.call(command + pip_arguments)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
