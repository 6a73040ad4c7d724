"""Python as the Docker image runs it, for the benches that measure ``streamops serve``.

The image sets ``PYTHONOPTIMIZE=2`` (no docstrings, no ``assert``) and
``PYTHONNODEBUGRANGES=1`` (no column ranges in code objects) for every Python it
runs, and its build compiles the standard library, the packages and StreamOps into
bytecode with those settings. A server measured here runs with the same variables
(:data:`IMAGE_PYTHON_ENV`; ``tests/deploy/test_deploy_files.py`` checks the Dockerfile
sets them), after :func:`precompile` has done what the image build does: otherwise
every start would compile each module from source (this machine sets
``PYTHONDONTWRITEBYTECODE``) and the start-up and idle-memory figures would include
the compiler's work.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

#: The interpreter settings the Dockerfile's ``ENV`` gives every Python in the image.
IMAGE_PYTHON_ENV: dict[str, str] = {"PYTHONOPTIMIZE": "2", "PYTHONNODEBUGRANGES": "1"}

#: StreamOps' packages in a source tree.
PACKAGES = ("bot", "handlers", "storage")


def image_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the image's interpreter settings."""
    return {**env, **IMAGE_PYTHON_ENV}


@functools.cache
def precompile(python: str, tree: Path) -> None:
    """Compile, with the image's settings, what ``python`` imports from its installation
    (standard library and packages) and StreamOps' packages in ``tree``; once per process
    for each pair. Up-to-date bytecode is skipped, so only the first call on a machine
    takes long (16 s for the development virtualenv on 2 cores)."""
    env = image_env(dict(os.environ))
    paths = json.loads(
        subprocess.run(
            [
                python,
                "-c",
                "import json, sysconfig; p = sysconfig.get_paths();"
                " print(json.dumps(sorted({p['stdlib'], p['purelib'], p['platlib']})))",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    paths += [str(tree / package) for package in PACKAGES]
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", *paths],
        env=env,
        stdout=subprocess.DEVNULL,
        check=False,  # a file that does not compile (a test fixture) stays uncompiled
    )
