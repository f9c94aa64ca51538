from __future__ import annotations

from triage.breaker import Breaker


def test_a_backend_that_keeps_failing_is_cooled_down_then_tried_once():
    breaker = Breaker(failures=3, cooldown=60)
    for now in (0, 1, 2):
        assert breaker.allow(now)
        breaker.failure(now)
    assert breaker.state(3) == "open" and not breaker.allow(30)
    assert breaker.allow(62)  # the one trial after the cool-down
    assert not breaker.allow(62.5)  # no second trial while the first is out
    breaker.failure(63)
    assert not breaker.allow(100)  # failed trial: cooled down again
    assert breaker.allow(124)
    breaker.success()
    assert breaker.state(124) == "closed" and breaker.allow(124)


def test_a_success_resets_the_count():
    breaker = Breaker(failures=2, cooldown=60)
    breaker.failure(0)
    breaker.success()
    breaker.failure(1)
    assert breaker.allow(2)
