"""The worker's settings, as read from the environment."""

import pytest

from shared.broker import Topology
from shared.settings import Settings


def test_retry_delays_are_read_as_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKER_RETRY_DELAYS", "1, 2.5,60")

    settings = Settings()

    assert settings.worker_retry_delays == [1, 2.5, 60]
    topology = Topology.from_settings(settings)
    assert topology.retry_queue(1) == "eventscale.work.retry.1000ms"
    assert topology.retry_queue(2) == "eventscale.work.retry.2500ms"
    # More failures than delays keep waiting the longest delay.
    assert topology.retry_queue(7) == "eventscale.work.retry.60000ms"


@pytest.mark.parametrize("delays", ["0", "", "-5,10"])
def test_retry_delays_must_be_positive(
    monkeypatch: pytest.MonkeyPatch, delays: str
) -> None:
    monkeypatch.setenv("WORKER_RETRY_DELAYS", delays)

    with pytest.raises(ValueError, match="worker_retry_delays"):
        Settings()
