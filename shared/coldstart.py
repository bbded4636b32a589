"""The Init phase of a Lambda container: importing and building its app.

Almost everything allocated then lives as long as the container, so the
cyclic garbage collector's passes over it during import are wasted work (a
tenth of a cold start, measured with ``bench/cold_start.py``). The collector
is paused while a handler module sets itself up, and what it built is frozen
afterwards so that later collections, during requests, skip it as well.

``pydantic.v1`` is made unimportable first, as it is in the packages (which
leave it out): FastAPI asks for it at every route it declares, to refuse
pydantic 1 models, and a failed import that is known at once costs nothing,
where a missing package is searched for each time.
"""

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def block_pydantic_v1() -> None:
    # A None entry makes every import of the module fail at once, as a
    # missing package does after a search.
    sys.modules.setdefault("pydantic.v1", None)  # type: ignore[arg-type]


@contextmanager
def container_init() -> Iterator[None]:
    block_pydantic_v1()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
