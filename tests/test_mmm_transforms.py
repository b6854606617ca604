"""Adstock and saturation transforms of `cerebro.mmm.transforms`: exact values worked out by
hand, shapes, edge cases, and the same numbers from numpy and from JAX."""

from __future__ import annotations

import numpy as np
import pytest

from cerebro.mmm import transforms as tf

IMPULSE = np.array([1.0, 0, 0, 0, 0, 0])


def test_geometric_adstock_of_an_impulse_is_alpha_to_the_lag_until_l_max() -> None:
    out = tf.geometric_adstock(IMPULSE, 0.5, l_max=4)
    np.testing.assert_array_equal(out, [1, 0.5, 0.25, 0.125, 0, 0])


def test_normalised_geometric_weights_sum_to_one_and_keep_the_total_of_long_spend() -> None:
    w = tf.geometric_weights(0.7, 6, normalize=True)
    assert w.sum() == pytest.approx(1, abs=1e-15)
    np.testing.assert_allclose(w, 0.7 ** np.arange(6) / sum(0.7**k for k in range(6)), rtol=1e-15)
    steady = tf.geometric_adstock(np.ones(30), 0.7, l_max=6, normalize=True)
    np.testing.assert_allclose(steady[5:], 1.0, rtol=1e-14)  # constant spend stays constant


def test_geometric_adstock_by_hand_on_a_short_series() -> None:
    # y_t = x_t + 0.5 x_{t-1} + 0.25 x_{t-2} for l_max = 3
    out = tf.geometric_adstock(np.array([2.0, 4.0, 0.0, 8.0]), 0.5, l_max=3)
    np.testing.assert_allclose(out, [2, 4 + 1, 0 + 2 + 0.5, 8 + 0 + 1], rtol=1e-15)


def test_alpha_zero_is_no_carryover_and_l_max_one_is_the_identity() -> None:
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    np.testing.assert_array_equal(tf.geometric_adstock(x, 0.0, l_max=5), x)
    np.testing.assert_array_equal(tf.geometric_adstock(x, 0.9, l_max=1), x)


def test_delayed_adstock_peaks_at_theta() -> None:
    out = tf.delayed_adstock(IMPULSE, 0.5, 2, l_max=5)
    # alpha^((l - 2)^2) for l = 0..4: 0.5^4, 0.5^1, 1, 0.5, 0.5^4
    np.testing.assert_allclose(out[:5], [0.0625, 0.5, 1.0, 0.5, 0.0625], rtol=1e-15)
    assert int(np.argmax(out)) == 2
    assert tf.delayed_adstock(IMPULSE, 0.5, 2, l_max=5, normalize=True).sum() == pytest.approx(1)


def test_weibull_pdf_weights_are_the_density_rescaled_to_zero_one() -> None:
    lam, k, l_max = 2.0, 1.5, 5
    t = np.arange(1, l_max + 1)
    f = (k / lam) * (t / lam) ** (k - 1) * np.exp(-((t / lam) ** k))
    w = tf.weibull_pdf_weights(lam, k, l_max)
    np.testing.assert_allclose(w, (f - f.min()) / (f.max() - f.min()), rtol=1e-14)
    assert w.max() == 1 and w.min() == 0


def test_weibull_cdf_weights_are_cumulative_survival_products() -> None:
    w = tf.weibull_cdf_weights(2.0, 1.0, 3)  # k = 1: S(t) = exp(-t/2)
    s = np.exp(-np.arange(1, 4) / 2)
    np.testing.assert_allclose(w, [1, s[0], s[0] * s[1], s[0] * s[1] * s[2]], rtol=1e-15)
    out = tf.weibull_adstock(IMPULSE, 2.0, 1.0, l_max=3, form="cdf")
    np.testing.assert_allclose(out[:4], w, rtol=1e-15)


def test_hill_is_half_at_kappa_zero_at_zero_and_bounded_by_one() -> None:
    assert tf.hill(3.0, 2.0, 3.0) == pytest.approx(0.5, abs=1e-15)
    assert tf.hill(0.0, 2.0, 3.0) == 0
    assert tf.hill(6.0, 2.0, 3.0) == pytest.approx(36 / (9 + 36), rel=1e-15)
    assert tf.hill(1e12, 1.0, 1.0) < 1


def test_logistic_and_michaelis_menten_by_hand() -> None:
    assert tf.logistic(0.0, 2.0) == 0
    assert tf.logistic(1.0, 2.0) == pytest.approx(np.tanh(1.0), rel=1e-15)
    assert tf.logistic(1.0, 2.0) == pytest.approx((1 - np.exp(-2)) / (1 + np.exp(-2)), rel=1e-15)
    assert tf.michaelis_menten(2.0, 3.0, 2.0) == pytest.approx(1.5, rel=1e-15)  # half at lam
    assert tf.michaelis_menten(6.0, 3.0, 2.0) == pytest.approx(3 * 6 / 8, rel=1e-15)


def test_parameters_broadcast_over_channels_and_draws() -> None:
    x = np.arange(10.0).reshape(5, 2)  # weeks x channels
    alpha = np.array([[0.1, 0.5], [0.3, 0.9], [0.0, 0.2]])  # draws x channels
    batched = tf.geometric_adstock(x[:, None, :], alpha, l_max=3)
    assert batched.shape == (5, 3, 2)
    for d in range(3):
        for c in range(2):
            one = tf.geometric_adstock(x[:, c], alpha[d, c], l_max=3)
            np.testing.assert_allclose(batched[:, d, c], one, rtol=1e-15)


def test_l_max_longer_than_the_series_is_fine() -> None:
    np.testing.assert_allclose(tf.geometric_adstock(IMPULSE[:3], 0.5, l_max=10), [1, 0.5, 0.25])


def test_unknown_transform_names_are_refused() -> None:
    with pytest.raises(ValueError, match="adstock"):
        tf.adstock_weights("carryover", {}, 3, False)
    with pytest.raises(ValueError, match="saturation"):
        tf.saturate("tanh", 1.0, {})


def test_jax_and_numpy_give_the_same_numbers() -> None:
    """One definition serves the model (JAX) and the summaries (numpy): equal to 1e-12."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 1.0, (20, 3))
    params = {
        "alpha": np.array([0.2, 0.5, 0.8]),
        "theta": np.array([0.0, 1.5, 3.0]),
        "lam": np.array([1.0, 2.0, 4.0]),
        "k": np.array([0.7, 1.5, 3.0]),
    }
    for kind in tf.ADSTOCKS:
        w_np = tf.adstock_weights(kind, params, 6, True)
        w_jx = tf.adstock_weights(
            kind, {k: jnp.asarray(v) for k, v in params.items()}, 6, True, jnp
        )
        a = tf.convolve_lags(x, w_np)
        b = tf.convolve_lags(jnp.asarray(x), w_jx, jnp)
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-12, err_msg=kind)
    sat = {"slope": params["k"], "kappa": params["lam"], "lam": params["lam"]}
    for kind in tf.SATURATIONS:
        a = tf.saturate(kind, x, sat)
        b = tf.saturate(kind, jnp.asarray(x), {k: jnp.asarray(v) for k, v in sat.items()}, jnp)
        np.testing.assert_allclose(np.asarray(b), a, rtol=1e-12, err_msg=kind)


def test_hill_gradient_is_finite_at_zero_spend_with_a_slope_below_one() -> None:
    """A dark week (adstocked spend exactly 0) with slope < 1 once gave a NaN gradient (the
    infinite derivative of x^slope at 0 times the zero derivative of the adstock), which NUTS
    counts as a divergence: most draws of the benchmark fit diverged because of it."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    spend = jnp.array([0.0, 0.0, 1.0, 2.0, 0.0])

    def total(alpha, slope, kappa):
        adstocked = tf.convolve_lags(spend, tf.geometric_weights(alpha, 3, True, jnp), jnp)
        return tf.hill(adstocked, slope, kappa, jnp).sum()

    for slope in (0.5, 1.0, 2.0):
        grads = jax.grad(total, argnums=(0, 1, 2))(0.4, slope, 0.7)
        assert np.all(np.isfinite(np.asarray(grads))), slope
    assert float(tf.hill(0.0, 0.5, 0.7)) == 0.0
