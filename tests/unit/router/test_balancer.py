from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ias.router.balancer import EJECT_AFTER_FAILURES, EJECT_SECONDS, BackendState, pick

NOW = 1_000.0


def backend(weight: int = 1, outstanding: int = 0) -> BackendState:
    return BackendState(uuid.uuid4(), "http://backend.test/v1", None, weight, outstanding)


def eject(state: BackendState, at: float) -> None:
    for _ in range(EJECT_AFTER_FAILURES):
        state.failed(at)


def draws(
    backends: tuple[BackendState, ...], count: int, *, seed: int = 7, now: float = NOW
) -> Counter[uuid.UUID]:
    rng = random.Random(seed)
    picked: Counter[uuid.UUID] = Counter()
    for _ in range(count):
        chosen = pick(backends, set(), rng, now)
        assert chosen is not None
        picked[chosen.id] += 1
    return picked


def test_no_backend_means_no_choice() -> None:
    assert pick((), set(), random.Random(1), NOW) is None


def test_every_backend_excluded_means_no_choice() -> None:
    a, b = backend(), backend()
    assert pick((a, b), {a.id, b.id}, random.Random(1), NOW) is None


def test_single_backend_is_always_chosen() -> None:
    only = backend(outstanding=100)
    assert all(pick((only,), set(), random.Random(seed), NOW) is only for seed in range(20))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_traffic_follows_weights_when_load_is_equal(seed: int) -> None:
    light, heavy = backend(weight=1), backend(weight=3)
    picked = draws((light, heavy), 20_000, seed=seed)
    share = picked[heavy.id] / 20_000
    assert share == pytest.approx(0.75, abs=0.02)


def test_equal_weights_split_traffic_evenly() -> None:
    a, b, c = backend(), backend(), backend()
    picked = draws((a, b, c), 30_000)
    for state in (a, b, c):
        assert picked[state.id] / 30_000 == pytest.approx(1 / 3, abs=0.02)


def test_backend_with_fewer_outstanding_requests_wins() -> None:
    busy, idle = backend(outstanding=5), backend(outstanding=0)
    assert draws((busy, idle), 500) == Counter({idle.id: 500})


def test_load_is_measured_per_unit_of_weight() -> None:
    # 8 requests on a backend of weight 8 is a lighter load than 2 on a backend of weight 1.
    big, small = backend(weight=8, outstanding=8), backend(weight=1, outstanding=2)
    assert draws((big, small), 500) == Counter({big.id: 500})


def test_least_loaded_of_three_is_never_starved_and_busiest_loses_every_duel() -> None:
    idle, medium, busy = backend(outstanding=0), backend(outstanding=3), backend(outstanding=9)
    picked = draws((idle, medium, busy), 3_000)
    assert picked[busy.id] == 0
    assert picked[idle.id] > picked[medium.id] > 0


def test_backend_is_ejected_after_consecutive_failures_and_comes_back_after_the_ejection() -> None:
    flaky, steady = backend(), backend()
    for _ in range(EJECT_AFTER_FAILURES - 1):
        flaky.failed(NOW)
    assert flaky.healthy(NOW)
    assert draws((flaky, steady), 200)[flaky.id] > 0

    flaky.failed(NOW)
    assert not flaky.healthy(NOW)
    assert draws((flaky, steady), 200) == Counter({steady.id: 200})
    almost = NOW + EJECT_SECONDS - 0.001
    assert draws((flaky, steady), 200, now=almost) == Counter({steady.id: 200})

    back = NOW + EJECT_SECONDS
    assert flaky.healthy(back)
    assert draws((flaky, steady), 200, now=back)[flaky.id] > 0


def test_success_resets_the_failure_count() -> None:
    state = backend()
    for _ in range(EJECT_AFTER_FAILURES - 1):
        state.failed(NOW)
    state.succeeded()
    for _ in range(EJECT_AFTER_FAILURES - 1):
        state.failed(NOW)
    assert state.healthy(NOW)
    assert state.consecutive_failures == EJECT_AFTER_FAILURES - 1


def test_success_ends_an_ejection_at_once() -> None:
    state = backend()
    eject(state, NOW)
    assert not state.healthy(NOW + 1)
    state.succeeded()
    assert state.healthy(NOW + 1)
    assert state.consecutive_failures == 0


def test_backend_failing_its_health_probe_is_skipped() -> None:
    down, up = backend(), backend(outstanding=50)
    down.probe_ok = False
    assert draws((down, up), 200) == Counter({up.id: 200})


def test_excluded_backend_is_never_chosen_even_when_idle() -> None:
    tried, other = backend(outstanding=0), backend(outstanding=40)
    rng = random.Random(3)
    assert all(pick((tried, other), {tried.id}, rng, NOW) is other for _ in range(200))


def test_when_all_are_ejected_the_earliest_ejected_is_tried() -> None:
    first, second, third = backend(), backend(), backend()
    eject(second, NOW + 2)
    eject(first, NOW)
    eject(third, NOW + 1)
    rng = random.Random(5)
    assert all(pick((second, third, first), set(), rng, NOW + 3) is first for _ in range(50))


def test_ejected_backend_is_still_tried_when_every_other_is_excluded() -> None:
    tried, ejected = backend(), backend()
    eject(ejected, NOW)
    assert pick((tried, ejected), {tried.id}, random.Random(1), NOW + 1) is ejected


backend_specs = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10),  # weight
        st.integers(min_value=0, max_value=50),  # outstanding
        st.floats(min_value=0, max_value=20),  # ejected_until
        st.booleans(),  # probe_ok
        st.booleans(),  # excluded
    ),
    max_size=8,
)


@given(
    specs=backend_specs,
    now=st.floats(min_value=0, max_value=25),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_pick_never_returns_an_excluded_backend(
    specs: list[tuple[int, int, float, bool, bool]], now: float, seed: int
) -> None:
    backends = []
    exclude: set[uuid.UUID] = set()
    for weight, outstanding, ejected_until, probe_ok, excluded in specs:
        state = backend(weight, outstanding)
        state.ejected_until, state.probe_ok = ejected_until, probe_ok
        backends.append(state)
        if excluded:
            exclude.add(state.id)
    chosen = pick(tuple(backends), exclude, random.Random(seed), now)
    allowed = [b for b in backends if b.id not in exclude]
    if not allowed:
        assert chosen is None
        return
    assert chosen is not None
    assert chosen.id not in exclude
    assert chosen in allowed
    healthy = [b for b in allowed if b.healthy(now)]
    if healthy:
        assert chosen.healthy(now)
        # Power of two choices: never the single most loaded when there is a choice.
        if len(healthy) >= 2:
            heaviest = max(b.load() for b in healthy)
            lightest = min(b.load() for b in healthy)
            if heaviest > lightest:
                assert chosen.load() < heaviest or sum(b.load() == heaviest for b in healthy) > 1
