"""A handler's set-up runs with the garbage collector paused, and leaves it as
it found it."""

import gc
from collections.abc import Iterator

import pytest

from shared.coldstart import container_init
from tests.fresh_process import run_fresh


@pytest.fixture
def collector_state() -> Iterator[None]:
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


@pytest.mark.usefixtures("collector_state")
def test_the_collector_is_paused_during_set_up_and_running_after() -> None:
    gc.enable()
    with container_init():
        assert not gc.isenabled()
        built_at_set_up = [object() for _ in range(10)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(built_at_set_up)


@pytest.mark.usefixtures("collector_state")
def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with container_init():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_the_collector_comes_back_when_set_up_fails() -> None:
    gc.enable()
    with pytest.raises(ImportError), container_init():
        raise ImportError("a handler's import failed")
    assert gc.isenabled()


def test_set_up_leaves_pydantic_v1_unimportable_as_the_packages_do() -> None:
    # In a fresh interpreter: this one has pydantic.v1 blocked for every test.
    attempt = (
        "from shared.coldstart import container_init\n"
        "with container_init():\n"
        "    pass\n"
        "try:\n"
        "    import pydantic.v1\n"
        "except ImportError:\n"
        "    print('unimportable')\n"
    )

    assert run_fresh(attempt, env={}) == "unimportable"
