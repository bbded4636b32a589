"""Running the worker as a long-lived process or beside the local API."""

import threading


def run(stop: threading.Event) -> None:
    """Work until ``stop`` is set. The consumer itself comes with the worker."""
    stop.wait()


def main() -> None:
    raise SystemExit("the worker consumer is not built yet")
