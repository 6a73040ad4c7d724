"""LagLimit: the post-ack cap follows event-loop lag samples (no clock involved)."""

from __future__ import annotations

import pytest

from bot.lag_limit import LagLimit


def test_a_late_loop_cuts_the_cap_down_to_the_floor_and_an_on_time_one_raises_it() -> None:
    """Each late sample multiplies the cap by 0.7; each on-time one adds one, up to the ceiling."""
    limit = LagLimit(ceiling=256, floor=8, target_lag=0.010)
    assert limit.value == 256
    assert [limit.observe(0.050) for _ in range(3)] == [179, 125, 87]
    for _ in range(20):
        limit.observe(0.050)
    assert limit.value == 8  # some work always progresses
    assert [limit.observe(0.001) for _ in range(3)] == [9, 10, 11]
    for _ in range(1000):
        limit.observe(0.0)
    assert limit.value == 256  # never past the ceiling


def test_a_sample_between_half_and_full_target_holds_the_cap() -> None:
    """Lag just under target neither raises nor cuts (no oscillation around the target)."""
    limit = LagLimit(ceiling=100, floor=4, target_lag=0.010, value=40)
    assert limit.observe(0.007) == 40
    assert limit.observe(0.010) == 40  # at target: not over it
    assert limit.observe(0.0101) == 28


def test_a_floor_above_the_ceiling_is_refused() -> None:
    with pytest.raises(ValueError, match="floor"):
        LagLimit(ceiling=2, floor=8)
