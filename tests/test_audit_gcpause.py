"""The collector settings around an audit's bulk work (ntsec.audit.gcpause)."""

from __future__ import annotations

import gc

from ntsec.audit.gcpause import gc_frozen, gc_paused


def test_gc_paused_restores_the_setting() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause restores what it found: off
    assert gc.isenabled()


def test_gc_frozen_nests_and_the_outermost_unfreezes() -> None:
    assert 0 == gc.get_freeze_count()
    with gc_frozen():
        outer = gc.get_freeze_count()
        assert outer > 0
        kept = [object() for _ in range(10)]  # created after the outer freeze  # noqa: F841
        with gc_frozen():
            assert gc.get_freeze_count() >= outer
        # The inner exit leaves the outer's objects frozen (an engine's freeze inside a run).
        assert gc.get_freeze_count() >= outer
    assert 0 == gc.get_freeze_count()
