"""Cold-start import time of each Lambda handler, next to what it cannot beat.

Every figure is the median, over fresh processes, of the CPU time one
process spends importing the module; the interpreter's own start-up is left
out, being the same for all. CPU time rather than wall time, because on a
shared machine the wall clock mostly measures the neighbours; runs are
interleaved as well, so that what noise remains touches every target alike.
Where even CPU time wanders (a busy virtual machine), ``--instructions``
counts the instructions each import executes with valgrind, which repeat
exactly from run to run.
The HTTP handlers are compared with ``import fastapi, mangum`` (goal: within
1.3x); the worker with that floor too (goal: well under) and with ``import
pika``, the least a consumer can import. Handlers set themselves up with the
garbage collector paused (shared/coldstart.py); the floor rows are plain
imports, the libraries row is imported the way the handlers import.

    .venv/bin/python -m bench.cold_start            # 15 runs of each
    .venv/bin/python -m bench.cold_start --runs 31
    .venv/bin/python -m bench.cold_start --packaged  # after `make package`
    .venv/bin/python -m bench.cold_start --packaged --instructions
    .venv/bin/python -m bench.cold_start --top functions.auth.handler

By default the modules come from the development environment. With
``--packaged`` each is imported from its function's unpacked zip
(``dist/build/<name>``, left by ``make package``) by the runtime's Python
version, with nothing written beside it (Lambda's code folder is read-only):
what a deployed container imports. The environment is a production one with
literal values: a deployed function also waits for Secrets Manager, which
this machine cannot reach.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTTP_FLOOR = "fastapi, mangum"
# What no HTTP function can do without: the floor, the database driver and
# pool, settings and JSON logs. Imported the way the handlers import
# (shared/coldstart.py), so that the gap above this line is our own code.
HTTP_LIBRARIES = (
    "fastapi, mangum, psycopg, psycopg_pool, pydantic_settings, pythonjsonlogger.json"
)
WORKER_FLOOR = "pika"
HTTP_GOAL = 1.3
HTTP_HANDLERS = [
    f"functions.{name}.handler" for name in ("auth", "users", "events", "purchase")
]
WORKER_HANDLER = "functions.worker.handler"
TIMED_IMPORT = (
    "import time; started = time.process_time(); import {module}; "
    "print(time.process_time() - started)"
)
INSTRUCTION_COUNTER = (
    "valgrind",
    "--tool=cachegrind",
    "--cache-sim=no",
    "--cachegrind-out-file=/dev/null",
)
TIMED_AS_HANDLERS_IMPORT = (
    "import time; started = time.process_time()\n"
    "from shared.coldstart import container_init\n"
    "with container_init(): import {module}\n"
    "print(time.process_time() - started)"
)


def lambda_environment() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "ENVIRONMENT": "production",
        "AWS_LAMBDA_FUNCTION_NAME": "cold-start-bench",
        "DATABASE_URL": "postgresql://bench@127.0.0.1:1/bench",
        "JWT_SECRET": "b" * 48,
        "AMQP_URL": "amqp://bench:bench@127.0.0.1:1/%2F",
        "EMAIL_BACKEND": "ses",
        # One string hashing seed for every run, so instruction counts repeat.
        "PYTHONHASHSEED": "0",
    }


@dataclass(frozen=True)
class Interpreter:
    """Where a module is imported from: this checkout's environment, or the
    folders ``make package`` zipped."""

    python: str
    packages: Path | None = None

    def run(
        self, module: str, args: list[str], prefix: tuple[str, ...] = ()
    ) -> subprocess.CompletedProcess[str]:
        if self.packages is None:
            command, folder, env = [*prefix, self.python], ROOT, lambda_environment()
        else:
            folder = self.packages / _function_of(module)
            command = [*prefix, self.python, "-s"]  # no user site-packages
            env = {
                **lambda_environment(),
                "PYTHONPATH": str(folder),
                "PYTHONDONTWRITEBYTECODE": "1",
            }
        return subprocess.run(
            [*command, *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )


def _function_of(module: str) -> str:
    """The package holding ``module``: its own function's, or for the floors
    and libraries, one that has them."""
    if module.startswith("functions."):
        return module.split(".")[1]
    return "worker" if module == WORKER_FLOOR else "events"


def packaged_interpreter() -> Interpreter:
    from scripts.package import PYTHON_VERSION, runtime_python

    python = runtime_python(None)
    packages = ROOT / "dist" / "build"
    if python is None:
        sys.exit(f"--packaged needs Python {PYTHON_VERSION} on this machine")
    if not (packages / "events").is_dir():
        sys.exit("--packaged measures what `make package` built: run it first")
    return Interpreter(python, packages)


def import_seconds(interpreter: Interpreter, module: str) -> float:
    result = interpreter.run(module, ["-c", _timed_import(module)])
    return float(result.stdout)


def _timed_import(module: str) -> str:
    timed = TIMED_AS_HANDLERS_IMPORT if module == HTTP_LIBRARIES else TIMED_IMPORT
    return timed.format(module=module)


def import_instructions(interpreter: Interpreter, module: str) -> float:
    """Millions of instructions the import executes, counted by valgrind:
    the same on a busy machine as on an idle one (though blind to the cache
    misses that make the garbage collector slow)."""
    started = _instructions(interpreter, module, "import time")
    return (_instructions(interpreter, module, _timed_import(module)) - started) / 1e6


def _instructions(interpreter: Interpreter, module: str, code: str) -> int:
    result = interpreter.run(module, ["-c", code], prefix=INSTRUCTION_COUNTER)
    refs = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if refs is None:
        sys.exit(f"valgrind counted nothing:\n{result.stderr}")
    return int(refs.group(1).replace(",", ""))


def count_instructions(
    interpreter: Interpreter, modules: list[str]
) -> dict[str, float]:
    return {module: import_instructions(interpreter, module) for module in modules}


def measure(
    interpreter: Interpreter, modules: list[str], runs: int
) -> dict[str, float]:
    """Median CPU time to import each module, in milliseconds."""
    for module in modules:
        # A first run writes the venv's .pyc files and warms the disk cache.
        import_seconds(interpreter, module)
    samples: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(runs):
        for module in modules:
            samples[module].append(import_seconds(interpreter, module))
    return {module: statistics.median(s) * 1000 for module, s in samples.items()}


def print_table(medians: dict[str, float], unit: str) -> None:
    libraries = medians[HTTP_LIBRARIES]
    print(f"{'import':<28} {unit:>8} {'vs floor':>9} {'vs libraries':>13}")
    print(f"{HTTP_FLOOR:<28} {medians[HTTP_FLOOR]:>8.1f} {'(floor)':>9}")
    ratio = libraries / medians[HTTP_FLOOR]
    print(f"{'(the libraries, see above)':<28} {libraries:>8.1f} {ratio:>8.2f}x")
    for handler in HTTP_HANDLERS:
        ratio = medians[handler] / medians[HTTP_FLOOR]
        own = medians[handler] / libraries
        print(f"{handler:<28} {medians[handler]:>8.1f} {ratio:>8.2f}x {own:>12.2f}x")
    print(f"{WORKER_FLOOR:<28} {medians[WORKER_FLOOR]:>8.1f} {'(floor)':>9}")
    worker = medians[WORKER_HANDLER]
    vs_pika = worker / medians[WORKER_FLOOR]
    vs_http_floor = worker / medians[HTTP_FLOOR]
    print(f"{WORKER_HANDLER:<28} {worker:>8.1f} {vs_pika:>8.2f}x")
    print(f"{'  vs ' + HTTP_FLOOR:<28} {'':>8} {vs_http_floor:>8.2f}x")
    worst = max(medians[h] / medians[HTTP_FLOOR] for h in HTTP_HANDLERS)
    verdict = "met" if worst <= HTTP_GOAL else "NOT met"
    print(f"HTTP goal (each within {HTTP_GOAL}x of the floor): {verdict}")


def print_heaviest(interpreter: Interpreter, module: str, count: int = 20) -> None:
    """The modules that cost ``module``'s import the most time of their own."""
    result = interpreter.run(module, ["-X", "importtime", "-c", f"import {module}"])
    rows = re.findall(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", result.stderr)
    heaviest = sorted(rows, key=lambda row: int(row[0]), reverse=True)[:count]
    print(f"{'self ms':>8} {'total ms':>9}  module (heaviest of {module})")
    for own, total, _, name in heaviest:
        print(f"{int(own) / 1000:>8.1f} {int(total) / 1000:>9.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--top", metavar="MODULE", help="list its heaviest imports")
    parser.add_argument(
        "--packaged", action="store_true", help="import from what make package built"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions with valgrind (one run each) instead of CPU time",
    )
    args = parser.parse_args()
    if args.packaged:
        interpreter = packaged_interpreter()
    else:
        interpreter = Interpreter(sys.executable)
    if args.top:
        print_heaviest(interpreter, args.top)
        return
    modules = [HTTP_FLOOR, HTTP_LIBRARIES, *HTTP_HANDLERS, WORKER_FLOOR, WORKER_HANDLER]
    if args.instructions:
        print_table(count_instructions(interpreter, modules), "M instr")
    else:
        print_table(measure(interpreter, modules, args.runs), "CPU ms")


if __name__ == "__main__":
    main()
