"""Staffing advisor against published Erlang C values, and Erlang A's limits."""

import math

import pytest

from services.router.domain.ops import erlang

pytestmark = [pytest.mark.ops, pytest.mark.unit]

# A = 10 Erlang (200 contacts/h x 180 s), target 80 % answered within 20 s.
A, AHT, TARGET = 10.0, 180.0, 20.0


def test_published_example_14_agents_is_the_first_to_reach_80_percent():
    thirteen = erlang.erlang_c_staffing(13, A, AHT, TARGET)
    fourteen = erlang.erlang_c_staffing(14, A, AHT, TARGET)
    assert thirteen.service_level < 0.80
    assert fourteen.service_level >= 0.80
    assert round(fourteen.p_wait, 4) == 0.1741
    assert round(fourteen.asa_s, 2) == 7.84
    assert round(fourteen.service_level, 3) == 0.888
    assert erlang.needed(A, AHT, TARGET, 80).agents == 14


def test_erlang_b_and_c_known_values():
    assert round(erlang.erlang_b(10, 10.0), 4) == 0.2146  # Erlang B table: 10 servers, 10 Erlang
    assert erlang.erlang_c(10, 10.0) == 1.0  # unstable: everyone waits
    assert erlang.erlang_c_staffing(10, A, AHT, TARGET).service_level == 0.0


def test_erlang_a_with_endless_patience_is_erlang_c():
    c = erlang.erlang_c_staffing(14, A, AHT, TARGET)
    a = erlang.erlang_a_staffing(14, A, AHT, TARGET, patience_s=1e9)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-5)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
    assert a.asa_s == pytest.approx(c.asa_s, abs=1e-3)
    assert a.p_abandon < 1e-6


def test_erlang_a_abandonment_needs_fewer_agents_and_stays_stable_when_understaffed():
    impatient = erlang.needed(A, AHT, TARGET, 80, patience_s=120)
    assert impatient.agents < 14
    assert 0 < impatient.p_abandon < 0.2
    under = erlang.erlang_a_staffing(8, A, AHT, TARGET, patience_s=60)
    assert math.isfinite(under.asa_s) and under.p_abandon > 0.1
    # Little's law on the abandoning queue: abandon probability = mean wait / patience
    assert under.p_abandon == pytest.approx(under.asa_s / 60, rel=1e-6)


def test_service_level_grows_with_agents():
    levels = [erlang.erlang_a_staffing(n, A, AHT, TARGET, 90).service_level for n in range(8, 20)]
    assert levels == sorted(levels)
    assert all(0 <= x <= 1 for x in levels)


def test_no_traffic_needs_no_advice():
    assert erlang.needed(0, AHT, TARGET, 80) is None
