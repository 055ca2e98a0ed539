"""The chapter on the LIF neuron: grsn_edu.course.lif_demos, grsn_edu.course.plots.neurons, and the exercise
checks."""

import math

import pytest
import snntorch as snn
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from snntorch import surrogate
from snntorch._neurons.neurons import SpikingNeuron

from grsn_edu.course.checks import lif_basics as checks
from grsn_edu.course.lif_demos import (
    RateLayer,
    TrainResult,
    heaviside_spike,
    input_spikes,
    noisy_current,
    pulse_current,
    rate_loss,
    run_leaky,
    simulate_leaky,
    spike_function_curves,
    step_current,
    train_target_rates,
)
from grsn_edu.course.plots import neurons as plots
from grsn_edu.course.solutions import lif_basics as solutions
from grsn_edu.snn.neurons import leaky_step


# -- inputs ------------------------------------------------------------------------------------------------------
def test_step_current():
    c = step_current(8, 0.5, start=2, stop=5)
    assert c.shape == (8,)
    assert c.tolist() == [0, 0, 0.5, 0.5, 0.5, 0, 0, 0]
    assert step_current(4, 1.0, start=1).tolist() == [0, 1, 1, 1]


def test_pulse_current():
    c = pulse_current(6, 0.8, at=3)
    assert c.shape == (6,)
    assert torch.count_nonzero(c) == 1 and c[3] == pytest.approx(0.8)


def test_noisy_current_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = noisy_current(1000, mean=0.2, std=0.3, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a, noisy_current(1000, mean=0.2, std=0.3, seed=5))
    assert not torch.equal(a, noisy_current(1000, mean=0.2, std=0.3, seed=6))
    assert a.mean().item() == pytest.approx(0.2, abs=0.03)
    assert a.std().item() == pytest.approx(0.3, abs=0.03)


def test_noisy_current_per_neuron_means():
    means = torch.tensor([0.0, 1.0, 2.0])
    c = noisy_current(2000, mean=means, std=0.1, seed=0, shape=(3,))
    assert c.shape == (2000, 3)
    assert torch.allclose(c.mean(0), means, atol=0.02)


def test_input_spikes():
    x = input_spikes(200, 3, 10, rate=0.25, seed=1)
    assert x.shape == (200, 3, 10)
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert x.mean().item() == pytest.approx(0.25, abs=0.02)
    assert torch.equal(x, input_spikes(200, 3, 10, rate=0.25, seed=1))


# -- simulation --------------------------------------------------------------------------------------------------
def test_membrane_halves_each_step_after_a_unit_pulse():
    spk, mem = simulate_leaky(pulse_current(10, 1.0, at=2), beta=0.5)
    assert spk.sum() == 0  # 1.0 is not above the threshold 1.0: no spike
    assert mem[2].item() == 1.0
    for t in range(3, 10):
        assert mem[t].item() == pytest.approx(mem[t - 1].item() / 2)
    assert mem[9].item() == pytest.approx(0.5**7)


def test_run_leaky_matches_the_subtract_equation_with_delayed_reset():
    """U_t = beta U_{t-1} + I_t - S_{t-1} thr, S_t = [U_t > thr], checked by hand against snn.Leaky."""
    current = noisy_current(80, mean=0.3, std=0.4, seed=2, shape=(5,))
    beta, thr = 0.8, 0.7
    spk, mem = run_leaky(snn.Leaky(beta=beta, threshold=thr), current)
    u, s_prev = torch.zeros(5), torch.zeros(5)
    for t in range(80):
        u = beta * u + current[t] - s_prev * thr
        s = (u > thr).float()
        assert torch.allclose(mem[t], u, atol=1e-6)
        assert torch.equal(spk[t], s)
        s_prev = s
    assert spk.sum() > 10  # the test exercised the reset


def test_run_leaky_agrees_with_the_package_leaky_step():
    current = noisy_current(50, mean=0.4, std=0.3, seed=3, shape=(2, 4))
    spk, mem = simulate_leaky(current, beta=0.9)
    m = torch.zeros(2, 4)
    for t in range(50):
        s, m = leaky_step(current[t], m, torch.tensor(0.9), 1.0)
        assert torch.equal(s, spk[t]) and torch.allclose(m, mem[t])


def test_zero_reset_restarts_from_the_input():
    current = torch.full((12,), 0.45)
    spk, mem = simulate_leaky(current, beta=0.9, reset_mechanism="zero")
    spike_steps = torch.nonzero(spk).flatten().tolist()
    assert spike_steps[:3] == [2, 5, 8]  # 0.45, 0.855, 1.2195 (spike), then again from 0.45
    for t in spike_steps:
        if t + 1 < 12:
            assert mem[t + 1].item() == pytest.approx(0.45)


def test_subtract_reset_fires_more_than_zero_reset():
    current = torch.full((200,), 0.7)
    sub, _ = simulate_leaky(current, beta=0.9, reset_mechanism="subtract")
    zero, _ = simulate_leaky(current, beta=0.9, reset_mechanism="zero")
    assert zero.mean().item() == pytest.approx(0.5)
    assert sub.sum() > zero.sum()


def test_reset_delay_false_subtracts_on_the_spike_step():
    current = torch.full((5,), 0.3)
    _, late = run_leaky(snn.Leaky(beta=0.9), current)
    _, now = run_leaky(snn.Leaky(beta=0.9, reset_delay=False), current)
    assert late[3].item() == pytest.approx(1.0317, abs=1e-4)
    assert now[3].item() == pytest.approx(0.0317, abs=1e-4)


def test_run_leaky_shapes_per_neuron_beta_and_initial_membrane():
    current = torch.zeros(6, 2, 3)
    spk, mem = simulate_leaky(current, beta=torch.tensor([0.5, 0.9, 1.0]))
    assert spk.shape == mem.shape == (6, 2, 3)
    lif = snn.Leaky(beta=torch.tensor([0.5, 0.9, 1.0]))
    _, mem = run_leaky(lif, current, mem=torch.full((2, 3), 0.8))
    assert torch.allclose(mem[-1, 0], torch.tensor([0.8 * 0.5**6, 0.8 * 0.9**6, 0.8]))


def test_run_leaky_rejects_a_membrane_of_the_wrong_shape():
    with pytest.raises(ValueError, match="silently reset"):
        run_leaky(snn.Leaky(beta=0.9), torch.zeros(5, 2, 3), mem=torch.zeros(4, 3))
    with pytest.raises(ValueError, match="time first"):
        run_leaky(snn.Leaky(beta=0.9), torch.zeros(0))


def test_run_leaky_keeps_no_graph_on_the_module():
    lif = snn.Leaky(beta=0.9)
    current = torch.ones(4, 3, requires_grad=True)
    run_leaky(lif, current)
    assert lif.mem.numel() == 0


def test_simulate_leaky_does_not_grow_snntorchs_registry():
    n = len(SpikingNeuron.instances)
    for _ in range(5):
        simulate_leaky(torch.ones(3), beta=0.9)
    assert len(SpikingNeuron.instances) == n


def test_rate_of_a_constant_current_starts_at_threshold_times_one_minus_beta():
    beta = 0.8
    onset = 1.0 * (1 - beta)
    currents = torch.tensor([0.97 * onset, 1.03 * onset])
    spk, _ = simulate_leaky(currents.expand(600, 2), beta=beta)
    assert spk[:, 0].sum() == 0 and spk[:, 1].sum() > 0


# -- spike functions ---------------------------------------------------------------------------------------------
def test_heaviside_spike_same_forward_as_atan_and_zero_gradient():
    u = torch.linspace(-2, 2, 81)
    fwd_h, grad_h = spike_function_curves(heaviside_spike, u)
    fwd_a, grad_a = spike_function_curves(surrogate.atan(alpha=2.0), u)
    assert torch.equal(fwd_h, fwd_a)
    assert torch.equal(fwd_h, (u > 0).float())
    assert torch.count_nonzero(grad_h) == 0
    assert (grad_a > 0).all()


@pytest.mark.parametrize("alpha", [0.5, 2.0, 5.0])
def test_spike_function_curves_measures_the_atan_derivative(alpha):
    u = torch.linspace(-3, 3, 121)
    _, grad = spike_function_curves(surrogate.atan(alpha=alpha), u)
    expected = (alpha / 2) / (1 + (math.pi / 2 * alpha * u) ** 2)
    assert torch.allclose(grad, expected, rtol=1e-5)
    assert grad.max().item() == pytest.approx(alpha / 2)


def test_spike_function_curves_does_not_touch_its_input():
    u = torch.linspace(-1, 1, 5)
    spike_function_curves(surrogate.atan(), u)
    assert not u.requires_grad and u.grad is None


# -- training ----------------------------------------------------------------------------------------------------
def test_rate_layer_shapes_and_binary_spikes():
    torch.manual_seed(0)
    layer = RateLayer(5, 3)
    spk, mem = layer(input_spikes(20, 2, 5, seed=0))
    assert spk.shape == mem.shape == (20, 2, 3)
    assert set(spk.unique().tolist()) <= {0.0, 1.0}


def test_rate_loss_by_hand():
    spk = torch.zeros(4, 1, 2)
    spk[:2, 0, 0] = 1  # neuron 0 fires at rate 0.5, neuron 1 at 0
    target = torch.tensor([0.25, 0.5])
    assert rate_loss(spk, target).item() == pytest.approx(((0.25) ** 2 + 0.5**2) / 2)


def test_training_learns_with_the_surrogate_and_not_with_the_exact_step():
    x = input_spikes(20, 2, 8, rate=0.3, seed=1)
    target = torch.linspace(0.1, 0.5, 4)
    exact = train_target_rates(x, target, spike_grad=heaviside_spike, steps=15, lr=0.1)
    atan = train_target_rates(x, target, steps=15, lr=0.1)
    assert isinstance(atan, TrainResult) and len(atan.losses) == 15
    assert exact.losses[0] == pytest.approx(atan.losses[0])  # same initial weights
    assert all(g == 0.0 for g in exact.grad_norms)
    assert max(exact.losses) == min(exact.losses)
    assert atan.grad_norms[0] > 0
    assert atan.losses[-1] < 0.25 * atan.losses[0]
    assert atan.spk_before.shape == atan.spk_after.shape == (20, 2, 4)
    assert rate_loss(atan.spk_after, target) < rate_loss(atan.spk_before, target)


# -- plots -------------------------------------------------------------------------------------------------------
def _assert_readable(fig):
    """A title, labelled axes on every data panel, and a legend wherever an axis has more than one line."""
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() or any(ax.get_title() for ax in fig.axes)
    for ax in fig.axes:
        if ax.get_lines() or ax.collections or ax.patches:
            x_sharing = ax.get_shared_x_axes().get_siblings(ax)
            assert any(a.get_xlabel() for a in x_sharing), "x axis without label"
            y_sharing = ax.get_shared_y_axes().get_siblings(ax)
            assert any(a.get_ylabel() or any(t.get_text() for t in a.get_yticklabels()) for a in y_sharing), (
                "y axis without label"
            )
        labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        if len(labelled) > 1:  # its own legend, or the figure's (one legend for several panels)
            assert ax.get_legend() is not None or fig.legends, (
                f"{len(labelled)} lines but no legend on {ax.get_title()!r}")


def _legend_beside(ax) -> bool:
    """The axis's legend, drawn, lies entirely outside the axis's box (so it can hide no trace)."""
    renderer = ax.figure.canvas.get_renderer()
    legend, box = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
    return not legend.overlaps(box)


def test_plot_neuron_and_input_responses():
    current = step_current(30, 0.4, start=3)
    spk, mem = simulate_leaky(current)
    fig = plots.plot_neuron(current, spk, mem, threshold=1.0, title="t")
    _assert_readable(fig)
    FigureCanvasAgg(fig).draw()
    assert _legend_beside(fig.axes[1])  # the membrane panel's legend sits beside it, off the trace
    assert len(fig.axes) == 3
    assert any("(a.u.)" in ax.get_ylabel() for ax in fig.axes)
    pulse = pulse_current(30, 0.5, at=3)
    fig = plots.plot_input_responses({"step": (current, spk, mem), "pulse": (pulse, *simulate_leaky(pulse))})
    _assert_readable(fig)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["membrane $U_t$", "threshold $U_{thr}$ = 1"]
    spike_labels = [ax.get_yticklabels()[0].get_text() for ax in fig.axes[-2:]]
    assert spike_labels == [f"spikes ({int(spk.sum())})", "spikes (0)"]


def test_plot_membranes_beta_traces_and_rate_curves():
    current = torch.full((30,), 0.45)
    traces = {m: simulate_leaky(current, reset_mechanism=m) for m in ("subtract", "zero")}
    fig = plots.plot_membranes(traces, current=current, title="reset")
    _assert_readable(fig)
    FigureCanvasAgg(fig).draw()
    assert _legend_beside(fig.axes[1])
    betas = [0.5, 0.9]
    pulse, step = pulse_current(20, 0.8, at=2), step_current(20, 0.2, start=2)
    fig = plots.plot_beta_traces({b: simulate_leaky(pulse, beta=b)[1] for b in betas},
                                 {b: simulate_leaky(step, beta=b) for b in betas}, step, pulse_at=2,
                                 pulse_amplitude=0.8)
    _assert_readable(fig)
    currents = torch.linspace(0, 1, 11)
    rates = {f"beta={b}": simulate_leaky(currents.expand(50, -1), beta=b)[0].mean(0) for b in betas}
    _assert_readable(plots.plot_rate_curves(currents, rates, {f"beta={b}": 1 - b for b in betas}))


def test_plot_raster_spike_function_losses_and_training():
    spk, _ = simulate_leaky(noisy_current(50, 0.2, 0.3, shape=(6,)))
    fig = plots.plot_raster(spk, values=torch.linspace(0, 1, 6), value_label="mean input")
    _assert_readable(fig)
    ax_raster = fig.axes[0]
    assert len(ax_raster.collections[0].get_offsets()) == int(spk.sum())
    u = torch.linspace(-1, 1, 21)
    fwd, grad = spike_function_curves(surrogate.atan(), u)
    _assert_readable(plots.plot_spike_function(u, {"a": fwd, "b": fwd}, {"a": grad, "b": grad}))
    fig = plots.plot_losses({"a": [1.0, 0.1, 0.0], "b": [1.0, 1.0, 1.0]}, zero_floor=1e-3)
    _assert_readable(fig)
    assert fig.axes[0].get_lines()[0].get_ydata()[-1] == pytest.approx(1e-3)
    before = torch.zeros(10, 2, 3)
    after = torch.ones(10, 2, 3)
    _assert_readable(plots.plot_rate_training(before, after, torch.tensor([0.1, 0.5, 1.0])))


# -- exercise checks ---------------------------------------------------------------------------------------------
def _no_delay(cur, mem, beta, threshold=1.0):
    mem = beta * mem + cur
    spk = (mem > threshold).float()
    return spk, mem - spk * threshold


def _no_reset(cur, mem, beta, threshold=1.0):
    mem = beta * mem + cur
    return (mem > threshold).float(), mem


def _no_decay(cur, mem, beta, threshold=1.0):
    mem = mem + cur - (mem > threshold).float() * threshold
    return (mem > threshold).float(), mem


def _spike_from_old_membrane(cur, mem, beta, threshold=1.0):
    spk = (mem > threshold).float()
    return spk, beta * mem + cur - spk * threshold


def test_check_lif_step(check_contract):
    check_contract(checks.check_lif_step, solutions.lif_step, {
        "one step later": _no_delay,
        "never reset": _no_reset,
        "multiply": _no_decay,
        "NEW membrane": _spike_from_old_membrane,
        "pair": lambda cur, mem, beta, threshold=1.0: mem,  # returns the membrane only
    })


def test_check_min_firing_current(check_contract):
    check_contract(checks.check_min_firing_current, solutions.min_firing_current, {
        "too large": lambda beta, threshold=1.0: threshold,  # ignores the leak
        "too large.*settle": lambda beta, threshold=1.0: threshold / (1 - beta),
        "too small": lambda beta, threshold=1.0: 0.5 * threshold * (1 - beta),
        "not exact": lambda beta, threshold=1.0: 1.01 * threshold * (1 - beta),
        "not positive": lambda beta, threshold=1.0: -threshold * (1 - beta),
    })


def test_check_atan_surrogate_grad(check_contract):
    check_contract(checks.check_atan_surrogate_grad, solutions.atan_surrogate_grad, {
        "chain rule": lambda u, alpha=2.0: 1 / math.pi / (1 + (math.pi / 2 * alpha * u) ** 2),
        "alpha / 2": lambda u, alpha=2.0: 1 / (1 + (math.pi / 2 * alpha * u) ** 2),
        "alpha=2.0": lambda u, alpha=2.0: (alpha / 2) / (1 + (alpha * u) ** 2),  # no pi
        "shape": lambda u, alpha=2.0: torch.ones(3),
    })


def test_the_exact_onsets_stored_in_the_check_are_the_solutions():
    stored = dict(zip(checks._SETTINGS, checks._EXACT_ONSETS))
    for (beta, threshold), onset in stored.items():
        assert onset == pytest.approx(solutions.min_firing_current(beta, threshold), rel=1e-12)
