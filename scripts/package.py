"""Build one Lambda zip per function folder: ``dist/<name>.zip``.

Each zip holds ``functions/<name>/``, ``shared/`` (code and ``.sql`` files)
and the libraries of the function's ``lambda-<name>`` dependency group in
pyproject.toml, at the versions uv.lock pins, installed from wheels built for
Lambda's platform. boto3 is not packed: the Python runtime provides it.
``make package`` runs this; serverless.yml deploys the zips.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

from scripts.lambda_imports import ROOT, third_party_imports

PYTHON_VERSION = "3.12"  # the runtime in serverless.yml
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34); argon2-cffi-bindings
# ships no wheel for older manylinux tags than 2_28.
PLATFORM = "x86_64-manylinux_2_34"
RUNTIME_PROVIDED = {"boto3", "botocore"}
SKIPPED_DIRS = {"__pycache__", "tests", "bench", ".mypy_cache", ".pytest_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
# Fixed times and modes make a zip depend only on its content, so an
# unchanged function is not deployed again.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Parts of libraries that no function runs. FastAPI imports pydantic.v1 only to
# ask whether a route's model is a pydantic 1 model (it refuses those), which
# costs every HTTP cold start about 5% of its imports; without the package
# that check answers no. The tests run with pydantic.v1 blocked as well.
PRUNED_LIBRARY_PARTS = ("pydantic/v1",)
LAMBDA_ZIP_LIMIT_MB = 50


NO_RUNTIME_PYTHON = (
    f"no Python {PYTHON_VERSION} found to precompile modules with: without "
    "them every cold start compiles its imports again. Name one with "
    f"RUNTIME_PYTHON=/path/to/python{PYTHON_VERSION}, or build anyway with "
    "UNCOMPILED=1."
)


class PackagingError(RuntimeError):
    pass


def function_names() -> list[str]:
    return sorted(path.parent.name for path in ROOT.glob("functions/*/handler.py"))


def group_requirements(uv: str, function: str) -> str:
    """The function's locked requirements (with hashes), for pip or uv."""
    group = ["--only-group", f"lambda-{function}"]
    result = subprocess.run(
        [uv, "export", "--frozen", "--no-emit-project", "--no-header", *group],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def requirement_names(requirements: str) -> set[str]:
    names = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", requirements, re.M)
    return {normalise(name) for name in names}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def missing_libraries(function: str, packaged: set[str]) -> set[str]:
    """Libraries the handler can import that its package would not hold."""
    providers = packages_distributions()
    missing = set()
    for module in third_party_imports(function) - RUNTIME_PROVIDED:
        names = {normalise(name) for name in providers.get(module, [module])}
        if not names & packaged:
            missing.add(module)
    return missing


def source_files(function: str) -> Iterator[Path]:
    """The project files a function's zip holds, relative to the root."""
    yield Path("functions/__init__.py")
    for folder in (Path("functions") / function, Path("shared")):
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT)
            if path.is_file() and _wanted(relative):
                yield relative


def _wanted(relative: Path) -> bool:
    if SKIPPED_DIRS.intersection(relative.parts):
        return False
    return relative.suffix not in SKIPPED_SUFFIXES


def install_libraries(uv: str, requirements: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    requirements_file = target.with_suffix(".requirements.txt")
    requirements_file.write_text(requirements)
    wheels_only = ["--no-deps", "--only-binary", ":all:"]
    for_lambda = ["--python-platform", PLATFORM, "--python-version", PYTHON_VERSION]
    into = ["--target", str(target), "-r", str(requirements_file)]
    subprocess.run(
        [uv, "pip", "install", "--quiet", *wheels_only, *for_lambda, *into],
        cwd=ROOT,
        check=True,
    )


def prune_libraries(target: Path) -> None:
    for part in PRUNED_LIBRARY_PARTS:
        shutil.rmtree(target / part, ignore_errors=True)


def copy_sources(function: str, target: Path) -> None:
    for relative in source_files(function):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, destination)


def runtime_python(given: str | None) -> str | None:
    """An interpreter of the runtime's exact version: the one given, else
    ``python3.12`` on the PATH, else one that pyenv installed."""
    if given:
        if not _is_runtime_version(given):
            raise PackagingError(f"{given} is not Python {PYTHON_VERSION}")
        return given
    candidates = [shutil.which(f"python{PYTHON_VERSION}"), *_pyenv_pythons()]
    return next((p for p in candidates if p and _is_runtime_version(p)), None)


def _pyenv_pythons() -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    pattern = f"versions/{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}"
    return [str(path) for path in sorted(root.glob(pattern), reverse=True)]


def _is_runtime_version(python: str) -> bool:
    try:
        probe = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
    except OSError:
        return False
    return probe.stdout.strip() == PYTHON_VERSION


def precompile(target: Path, python: str | None) -> None:
    """Lambda's code folder is read-only, so modules without a matching
    ``.pyc`` are compiled again on every cold start (three times the import
    time, README "Cold starts"). Compiling needs the runtime's exact Python
    version; ``None`` means the caller chose to go without."""
    if python is None:
        return
    # Sources never change inside a zip: skip the check of each file's hash.
    unchecked = ["--invalidation-mode", "unchecked-hash"]
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", *unchecked, str(target)],
        check=True,
    )


def write_zip(folder: Path, zip_path: Path) -> None:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(str(path.relative_to(folder)), ZIP_TIME)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())


def build(
    uv: str, function: str, build_dir: Path, dist: Path, python: str | None
) -> Path:
    requirements = group_requirements(uv, function)
    missing = missing_libraries(function, requirement_names(requirements))
    if missing:
        raise PackagingError(
            f"{function} imports {', '.join(sorted(missing))} but its "
            f"dependency group lambda-{function} in pyproject.toml lacks them"
        )
    target = build_dir / function
    shutil.rmtree(target, ignore_errors=True)
    install_libraries(uv, requirements, target)
    # Console scripts of the libraries point at this machine's Python.
    shutil.rmtree(target / "bin", ignore_errors=True)
    prune_libraries(target)
    copy_sources(function, target)
    precompile(target, python)
    zip_path = dist / f"{function}.zip"
    write_zip(target, zip_path)
    return zip_path


def report(zip_path: Path, folder: Path) -> str:
    zipped = zip_path.stat().st_size / 1e6
    unzipped = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    line = f"{zip_path.name:<14} {zipped:6.1f} MB zipped, {unzipped:6.1f} MB unzipped"
    if zipped > LAMBDA_ZIP_LIMIT_MB:
        line += f"  (over Lambda's {LAMBDA_ZIP_LIMIT_MB} MB direct upload limit)"
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("functions", nargs="*", help="default: every function")
    parser.add_argument("--uv", default=shutil.which("uv") or ".tools/bin/uv")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument(
        "--runtime-python",
        help=f"a Python {PYTHON_VERSION} to precompile modules with "
        f"(default: python{PYTHON_VERSION} on the PATH, or pyenv's)",
    )
    parser.add_argument(
        "--uncompiled",
        action="store_true",
        help="build without precompiled modules (slower cold starts)",
    )
    args = parser.parse_args(argv)
    build_dir = args.dist / "build"
    names = args.functions or function_names()
    try:
        python = None if args.uncompiled else runtime_python(args.runtime_python)
        if python is None and not args.uncompiled:
            raise PackagingError(NO_RUNTIME_PYTHON)
        zips = [build(args.uv, name, build_dir, args.dist, python) for name in names]
    except PackagingError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    for name, zip_path in zip(names, zips, strict=True):
        print(report(zip_path, build_dir / name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
