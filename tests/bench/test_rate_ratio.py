"""The fairness figure of the rush: a ratio of success rates with its Katz interval."""

import math

from bench.stats import rate_ratio_katz


def test_equal_rates_give_one_inside_the_interval():
    result = rate_ratio_katz(17, 167, 33, 333)
    assert math.isclose(result.ratio, (17 / 167) / (33 / 333))
    assert result.contains_one and result.low < 1 < result.high


def test_a_known_example_matches_the_formula():
    # ln RR ± 1.96 · sqrt(1/40 − 1/100 + 1/10 − 1/100) for 40/100 vs 10/100.
    result = rate_ratio_katz(40, 100, 10, 100)
    se = math.sqrt(1 / 40 - 1 / 100 + 1 / 10 - 1 / 100)
    assert math.isclose(result.ratio, 4.0)
    assert math.isclose(result.low, 4 * math.exp(-1.959964 * se))
    assert not result.contains_one


def test_a_zero_count_stays_finite():
    result = rate_ratio_katz(50, 167, 0, 333)
    assert math.isfinite(result.high) and result.low > 1
