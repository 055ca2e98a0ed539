"""The recurrent cores: one interface, explicit state, snnTorch-exact membranes, clear errors."""

import numpy as np
import pytest
import snntorch as snn
import torch
from float_rounding import assert_agree_to_rounding, assert_spikes_cannot_flip
from snntorch._neurons.neurons import SpikingNeuron
from torch import nn

from grsn_edu import CORE_NAMES, Trace, make_core
from grsn_edu.snn import cores
from grsn_edu.snn.cores import Core, SubstepCore
from grsn_edu.snn.neurons import atan_spike, atan_spike_at_threshold, leaky_step

I, H = 3, 6

# Every core and the main variants of the spiking ones.
VARIANTS = [
    ("mlp", {}),
    ("gru", {}),
    ("lif", {}),
    ("lif", {"readout": "membrane"}),
    ("grsn", {}),
    ("grsn", {"gate_input": "input"}),
    ("grsn", {"gate_input": "both", "readout": "both"}),
    ("rleaky", {}),
    ("slstm", {}),
    ("lif", {"substeps": 4}),
    ("grsn", {"substeps": 4}),
    ("grsn", {"substeps": 3, "reset_each_step": True}),
    ("grsn-first-release", {}),
    ("grsn-first-release", {"reset_membrane_each_call": False}),
    ("grsn-first-release", {"readout": "both", "substeps": 2}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}" if o else n for n, o in VARIANTS]
# A core whose membrane is zeroed at every call gives T single-step calls that differ from one T-step call
# (test_authors_membrane_reset_at_every_call); every other core gives the same numbers.
CARRIED = [(n, o) for n, o in VARIANTS if not (n == "grsn-first-release" and o.get("reset_membrane_each_call", True))]
CARRIED_IDS = [i for i, v in zip(IDS, VARIANTS) if v in CARRIED]


def build(name, seed=0, **options):
    torch.manual_seed(seed)
    return make_core(name, I, H, **options)


def drive(T, B, seed=1, scale=3.0):
    """Inputs strong enough that spiking cores fire."""
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(T, B, I, generator=g)


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_shapes_and_dtypes(name, options):
    core = build(name, **options)
    x = drive(5, 4)
    state = core.initial_state(4)
    for v in state.values():
        assert v.shape == (4, H) and v.dtype == torch.float32
    out, final = core(x, state)
    assert out.shape == (5, 4, core.output_size)
    assert out.dtype == torch.float32
    assert set(final) == set(core.state_names)
    for v in final.values():
        assert v.shape == (4, H) and v.dtype == torch.float32
    if core.spiking and getattr(core, "readout", getattr(getattr(core, "inner", None), "readout", None)) == "spikes":
        assert out.sum() > 0, "a spiking core must be able to spike"
        if core.substeps == 1:
            assert set(out.unique().tolist()) <= {0.0, 1.0}
        else:  # rate code: multiples of 1/S in [0, 1]
            assert torch.allclose(out * core.substeps, (out * core.substeps).round())


def test_every_name_is_buildable_and_readout_both_doubles_output():
    for name in CORE_NAMES:
        assert make_core(name, I, H).name == name
    assert make_core("grsn", I, H, readout="both").output_size == 2 * H


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_gradients_reach_every_parameter(name, options):
    core = build(name, **options)
    x = drive(12, 8)
    out, final = core(x, core.initial_state(8))
    # a loss that depends on outputs and on the final state, so every path is used
    loss = (out * torch.linspace(-1, 1, out.shape[-1])).sum() + sum(v.pow(2).sum() for v in final.values())
    loss.backward()
    for pname, p in core.named_parameters():
        assert p.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"
        assert p.grad.abs().sum() > 0, f"{pname} has an all-zero gradient"


def _snntorch_leaky_reference(core, x):
    """Linear encoder + a fresh snntorch.Leaky with the core's beta, stepped with snnTorch's own forward."""
    leaky = snn.Leaky(beta=core.beta.detach().clone(), threshold=core.threshold, reset_mechanism="subtract")
    cur = core.encoder(x)
    mem = torch.zeros(x.shape[1], core.hidden_size)
    spks, mems = [], []
    for t in range(x.shape[0]):
        spk, mem = leaky(cur[t], mem)
        spks.append(spk)
        mems.append(mem)
    return torch.stack(spks), torch.stack(mems)


@pytest.mark.parametrize(
    "name,options,betas",
    [("lif", {}, (0.3, 0.95)), ("grsn", {"gates": False}, (0.3, 0.95)),
     ("lif", {"threshold": 0.5}, (0.5, 1.3)), ("grsn", {"gates": False, "threshold": 0.5}, (0.5, 1.3))],
    ids=["lif", "grsn-gates-off", "lif-thr0.5-beta>1", "grsn-gates-off-thr0.5-beta>1"],
)
def test_membrane_is_snntorch_leaky(name, options, betas):
    core = build(name, **options)
    with torch.no_grad():
        core.beta.copy_(torch.linspace(*betas, H))  # per-neuron decay, as learned (may leave [0, 1]: clamped)
    x = drive(30, 4)
    trace = Trace()
    out, _ = core(x, core.initial_state(4), trace=trace)
    ref_spk, ref_mem = _snntorch_leaky_reference(core, x)
    assert ref_spk.sum() > 10, "the test input must make the neurons fire"
    assert torch.equal(out, ref_spk)
    assert torch.equal(trace["mem"], ref_mem)


def test_grsn_gates_off_matches_snntorch_gradients_too():
    core = build("grsn", gates=False)
    x = drive(20, 3)
    out, _ = core(x)
    (out * torch.arange(H)).sum().backward()
    grads = {n: p.grad.clone() for n, p in core.named_parameters()}
    core.zero_grad()
    ref_spk, _ = _snntorch_leaky_reference(core, x)
    (ref_spk * torch.arange(H)).sum().backward()
    for n in ("encoder.weight", "encoder.bias"):
        assert torch.allclose(grads[n], dict(core.named_parameters())[n].grad, atol=1e-6)


def test_gates_carry_the_surrogate_gradient_of_the_previous_spikes():
    # with spike-driven gates the gated current depends on the encoder only through o_{t-1}: a detached spike
    # (or a spike without surrogate) would cut this gradient
    core = build("grsn", gate_input="spikes")
    _, final = core(drive(12, 4))
    (grad,) = torch.autograd.grad(final["cur"].sum(), core.encoder.weight)
    assert grad.abs().sum() > 0


def test_grsn_init_and_readout_order():
    core = build("grsn", forget_bias=2.5, readout="both")
    assert torch.all(core.gate_o.bias[:H] == 2.5) and not torch.all(core.gate_o.bias[H:] == 2.5)
    trace = Trace()
    out, _ = core(drive(5, 2), trace=trace)
    assert torch.equal(out[..., :H], trace["spk"]) and torch.equal(out[..., H:], trace["mem"])


def test_no_graph_left_on_the_modules_after_a_call():
    for name in ("lif", "grsn", "rleaky", "slstm"):
        core = build(name)
        out, _ = core(drive(5, 2))
        out.sum().backward()
        for bname, buf in core.named_buffers():
            assert not buf.requires_grad and buf.grad_fn is None, f"{name}: buffer {bname} holds a graph"


def test_float64_cores_and_inputs():
    core = build("grsn").double()
    out, state = core(drive(4, 2).double())
    assert out.dtype == torch.float64 and state["mem"].dtype == torch.float64
    with pytest.raises(ValueError, match="x is torch.float64 .* parameters are torch.float32"):
        build("lif")(drive(4, 2).double())
    with pytest.raises(ValueError, match=r"state\['mem'\] is torch.float64"):
        core32 = build("lif")
        core32(drive(4, 2), {"mem": torch.zeros(2, H, dtype=torch.float64)})


def test_grsn_gated_current_follows_its_equations():
    core = build("grsn", gate_input="spikes")
    x = drive(15, 2)
    trace = Trace()
    core(x, trace=trace)
    spk_prev, forget, cand, cur = trace["spk_prev"], trace["forget"], trace["candidate"], trace["cur"]
    W, b = core.gate_o.weight, core.gate_o.bias
    c = torch.zeros(2, H)
    for t in range(x.shape[0]):
        pre = spk_prev[t] @ W.T + b
        f = torch.sigmoid(pre[:, :H])
        c = f * c + (1 - f) * torch.tanh(pre[:, H:])
        assert torch.allclose(forget[t], f, atol=1e-6)
        assert torch.allclose(cur[t], c, atol=1e-6)
    assert cand.abs().max() < 1


def test_rleaky_core_is_snntorch_rleaky():
    core = build("rleaky")
    x = drive(20, 3)
    out, _ = core(x)
    ref = snn.RLeaky(beta=core.beta.detach().clone(), linear_features=H, reset_mechanism="subtract")
    ref.recurrent.load_state_dict(core.rleaky.recurrent.state_dict())
    cur = core.encoder(x)
    spk, mem = torch.zeros(3, H), torch.zeros(3, H)
    spks = []
    for t in range(20):
        spk, mem = ref(cur[t], spk, mem)
        spks.append(spk)
    assert torch.stack(spks).sum() > 0
    assert torch.equal(out, torch.stack(spks))


def test_slstm_core_is_snntorch_slstm_and_keeps_state_when_sizes_differ():
    # With input_size == hidden_size snnTorch's SLSTM.forward carries its state and must agree with ours.
    torch.manual_seed(0)
    core = make_core("slstm", H, H)
    x = 3 * torch.randn(10, 2, H)
    out, _ = core(x)
    ref = snn.SLSTM(H, H)
    ref.load_state_dict(core.slstm.state_dict())
    syn, mem = torch.zeros(2, H), torch.zeros(2, H)
    spks = []
    for t in range(10):
        spk, syn, mem = ref(x[t], syn, mem)
        spks.append(spk)
    assert torch.equal(out, torch.stack(spks))
    # With input_size != hidden_size our core still carries state: a second step differs from a fresh start.
    core = build("slstm")
    x1 = drive(1, 2)
    _, state = core(drive(5, 2, seed=7))
    carried, _ = core(x1, state, trace=(tr := Trace()))
    fresh, _ = core(x1, core.initial_state(2), trace=(tr0 := Trace()))
    assert not torch.equal(tr["mem"], tr0["mem"])


@pytest.mark.parametrize("name,options", CARRIED, ids=CARRIED_IDS)
def test_sequence_call_equals_single_steps(name, options):
    core = build(name, **options)
    x = drive(9, 3)
    starts = torch.zeros(9, 3, dtype=torch.bool)
    starts[4, 1] = True
    starts[6, 0] = True
    state0 = core.initial_state(3)
    seq_trace, step_trace = Trace(), Trace()
    with torch.no_grad():
        seq_out, seq_state = core(x, state0, episode_start=starts, trace=seq_trace)
        state, outs = state0, []
        for t in range(9):
            o, state = core(x[t : t + 1], state, episode_start=starts[t : t + 1], trace=step_trace)
            outs.append(o)
    assert torch.allclose(seq_out, torch.cat(outs), atol=1e-6)
    assert set(seq_state) == set(state) == set(core.state_names)
    for k in seq_state:
        assert torch.allclose(seq_state[k], state[k], atol=1e-6)
    assert seq_trace.keys() == step_trace.keys()
    for k in seq_trace.keys():
        assert torch.allclose(seq_trace[k], step_trace[k], atol=1e-6), k


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_episode_start_resets_exactly_the_masked_entries(name, options):
    core = build(name, **options)
    T, B, t_reset, b_reset = 10, 4, 5, 2
    x = drive(T, B)
    _, warm = core(drive(6, B, seed=3), core.initial_state(B))  # a non-trivial state to start from
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[t_reset, b_reset] = True
    with torch.no_grad():
        plain, _ = core(x, warm)
        masked, _ = core(x, warm, episode_start=starts)
        fresh, _ = core(x[t_reset:, b_reset : b_reset + 1], core.initial_state(1))
    others = [b for b in range(B) if b != b_reset]
    # untouched, to float32 rounding: nn.GRU runs the sequence in one call without the reset but in two around it,
    # other matrix shapes (float_rounding); a reset leaking into other entries would change them by far more
    assert_agree_to_rounding(masked[:, others], plain[:, others], T * (I + H + 1), "entries not reset")
    assert_agree_to_rounding(masked[:t_reset, b_reset], plain[:t_reset, b_reset], T * (I + H + 1), "steps before")
    assert torch.allclose(masked[t_reset:, b_reset], fresh[:, 0], atol=1e-6)


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_episode_start_equals_fresh_runs_of_each_segment(name, options):
    core = build(name, **options)
    T, B = 12, 3
    x = drive(T, B)
    starts = torch.zeros(T, B, dtype=torch.bool)
    starts[0, 0] = True  # at the first step: the state passed in is not used for entry 0
    starts[[3, 8], 1] = True  # twice in one entry
    starts[5, :] = True  # every entry at once
    with torch.no_grad():
        _, warm = core(drive(5, B, seed=3))
        out, final = core(x, warm, episode_start=starts)
        for b in range(B):
            cuts = [t for t in range(T) if starts[t, b]]
            bounds = list(zip([0] + cuts, cuts + [T]))
            state = {k: v[b : b + 1] for k, v in warm.items()}
            for t0, t1 in bounds:
                if t0 == t1:
                    continue
                if starts[t0, b]:
                    state = core.initial_state(1)
                segment, state = core(x[t0:t1, b : b + 1], state)
                assert torch.allclose(out[t0:t1, b], segment[:, 0], atol=1e-6), (b, t0, t1)
            for k in final:
                assert torch.allclose(final[k][b], state[k][0], atol=1e-6), (b, k)


class LeakyIntegrator(Core):
    """A core that supplies only precompute and step: h_t = 0.5 h_{t-1} + W x_t."""

    _name = "integrator"
    state_names = ("h",)

    def __init__(self, input_size, hidden_size):
        super().__init__(input_size, hidden_size)
        self.encoder = nn.Linear(input_size, hidden_size, bias=False)

    def precompute(self, x):
        drive = self.encoder(x)
        return drive.unbind(0), {"x": x, "drive": drive}

    def step(self, drive_t, state, trace):
        h = 0.5 * state["h"] + drive_t
        if trace is not None:
            trace.add("h", h)
        return h, {"h": h, "doubled": 2 * h}  # "doubled" is derived: carried to the next step, never returned


def test_the_shared_loop_runs_a_core_that_supplies_only_its_step():
    torch.manual_seed(0)
    core = LeakyIntegrator(I, H)
    x = drive(6, 2)
    starts = torch.zeros(6, 2, dtype=torch.bool)
    starts[3, 1] = True
    trace = Trace()
    out, final = core(x, core.initial_state(2), episode_start=starts, trace=trace)
    h, expected = torch.zeros(2, H), []
    for t in range(6):
        if t == 3:
            h = h * torch.tensor([[1.0], [0.0]])
        h = 0.5 * h + x[t] @ core.encoder.weight.T
        expected.append(h)
    assert torch.allclose(out, torch.stack(expected), atol=1e-5)
    assert list(final) == ["h"] and torch.equal(final["h"], out[-1])
    assert trace.keys() == ["h", "x", "drive"]
    assert torch.equal(trace["h"], out.detach()) and torch.equal(trace["x"], x)
    with pytest.raises(ValueError, match="expected 3 input features"):
        core(drive(2, 2)[..., :2])


def _on_the_shared_loop(core):
    """The same core (same weights), run by Core's time loop over its step instead of its vectorised path."""
    loop_class = type(f"Loop{type(core).__name__}", (type(core),), {"_run": Core._run})
    twin = loop_class(core.input_size, core.hidden_size)
    twin.load_state_dict(core.state_dict())
    return twin


@pytest.mark.parametrize("name", ["mlp", "gru"])
def test_vectorised_paths_equal_the_shared_loop(name):
    core = build(name)
    twin = _on_the_shared_loop(core)
    x = drive(8, 3)
    starts = torch.zeros(8, 3, dtype=torch.bool)
    starts[2, 0] = starts[5, 2] = True
    fast_trace, loop_trace = Trace(), Trace()
    with torch.no_grad():
        fast, fast_state = core(x, episode_start=starts, trace=fast_trace)
        loop, loop_state = twin(x, episode_start=starts, trace=loop_trace)
    assert torch.allclose(fast, loop, atol=1e-6)
    for k in fast_state:
        assert torch.allclose(fast_state[k], loop_state[k], atol=1e-6)
    assert torch.allclose(fast_trace["h"], loop_trace["h"], atol=1e-6)


@pytest.mark.parametrize("name", ["lif", "grsn", "rleaky"])
def test_leaky_membranes_are_stepped_by_leaky_step(name, monkeypatch):
    calls = []

    def counting_leaky_step(*args, **kwargs):
        calls.append(args[0].shape)
        return leaky_step(*args, **kwargs)

    core = build(name)
    if name == "grsn":
        fused, _ = core(drive(7, 2))
        core.fused = False  # the step-by-step loop; its fused form (neurons.grsn_sequence) gives the same numbers
        assert torch.equal(core(drive(7, 2))[0], fused)
    expected, _ = core(drive(7, 2))
    monkeypatch.setattr(cores, "leaky_step", counting_leaky_step)
    out, _ = core(drive(7, 2))
    assert calls == [(2, H)] * 7
    assert torch.equal(out, expected)


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_same_seed_same_numbers(name, options):
    a, b = build(name, seed=5, **options), build(name, seed=5, **options)
    x = drive(8, 2)
    out_a, _ = a(x)
    out_b, _ = b(x)
    assert torch.equal(out_a, out_b)
    c = build(name, seed=6, **options)
    assert any(not torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


@pytest.mark.parametrize("name,options", VARIANTS, ids=IDS)
def test_instances_never_share_state(name, options):
    a, b = build(name, seed=0, **options), build(name, seed=0, **options)
    x = drive(6, 2)
    ref, _ = b(x)
    a(drive(6, 5, seed=9))  # another instance, another batch size, in between
    again, _ = b(x)
    assert torch.equal(ref, again)
    # calling the same instance twice with the same explicit state gives the same answer
    out1, _ = a(x, a.initial_state(2))
    a(drive(4, 3, seed=11))
    out2, _ = a(x, a.initial_state(2))
    assert torch.equal(out1, out2)


def test_no_neuron_left_in_snntorch_registry():
    before = len(SpikingNeuron.instances)
    cores = [make_core(n, I, H) for n in CORE_NAMES]
    assert len(SpikingNeuron.instances) == before
    del cores


def test_substeps_four_times_the_updates_and_rate_output():
    core = build("lif", substeps=4)
    assert isinstance(core, SubstepCore)
    trace = Trace()
    out, _ = core(drive(5, 2), trace=trace)
    assert trace["spk"].shape == (20, 2, H)
    assert torch.allclose(out, trace["spk"].reshape(5, 4, 2, H).mean(1))


def test_substeps_reset_each_step_forgets_between_steps():
    core = build("grsn", substeps=2, reset_each_step=True)
    x = drive(4, 1)
    with torch.no_grad():
        out, _ = core(x, trace=(trace := Trace()))
        alone, _ = core(x[2:3])
    # one call of 4 steps and one of 1 compute the input currents with other matrix shapes: the spikes are equal
    # because no membrane comes within rounding of the threshold (float_rounding)
    assert_spikes_cannot_flip(trace["mem"], core.inner.threshold, terms=2 * (I + H + 1))
    assert torch.equal(out[2], alone[0])


# -- bad input ------------------------------------------------------------------------------------------------
def test_unknown_core_name_lists_known_names():
    with pytest.raises(ValueError, match="known cores: mlp, gru, lif, grsn, rleaky, slstm, grsn-first-release"):
        make_core("lstm", I, H)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"substeps": 0}, r"substeps must be an integer >= 1, got 0 \(1 = TAP"),
        ({"substeps": 2.0}, "substeps must be an integer >= 1, got 2.0"),
        ({"gate_input": "state"}, "gate_input must be one of"),
        ({"readout": "rate"}, "readout must be one of"),
        ({"beta": 1.5}, r"beta .* must lie in \[0, 1\]"),
        ({"threshold": 0.0}, "threshold must be > 0"),
        ({"colour": "blue"}, "bad option for core 'grsn'.*its options are"),
        ({"reset_each_step": True}, "reset_each_step only applies"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_core("grsn", I, H, **kwargs)


def test_substeps_on_a_non_spiking_core_is_refused():
    with pytest.raises(ValueError, match="not spiking"):
        make_core("gru", I, H, substeps=4)


@pytest.mark.parametrize("name", CORE_NAMES)
def test_bad_shapes_and_states(name):
    core = make_core(name, I, H)
    with pytest.raises(ValueError, match=r"shape \(T, B, 3\)"):
        core(torch.randn(4, I))
    with pytest.raises(ValueError, match="expected 3 input features"):
        core(torch.randn(4, 2, I + 1))
    with pytest.raises(ValueError, match="T >= 1"):
        core(torch.randn(0, 2, I))
    with pytest.raises(ValueError, match="floating-point"):
        core(torch.ones(4, 2, I, dtype=torch.long))
    with pytest.raises(ValueError, match=r"episode_start must have shape \(T, B\) = \(4, 2\)"):
        core(torch.randn(4, 2, I), episode_start=torch.zeros(4, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="episode_start must be a bool tensor"):
        core(torch.randn(4, 2, I), episode_start=torch.zeros(4, 2))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        core.initial_state(0)
    if core.state_names:
        with pytest.raises(ValueError, match=r"made for batch size 5 but x has batch size 2.*initial_state\(2\)"):
            core(torch.randn(4, 2, I), core.initial_state(5))
        with pytest.raises(ValueError, match="state must be a dict with keys"):
            core(torch.randn(4, 2, I), {"wrong": torch.zeros(2, H)})
        with pytest.raises(ValueError, match="hidden_size=6"):
            core(torch.randn(4, 2, I), make_core(name, I, H + 1).initial_state(2))


def test_bad_sizes():
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1, got 0"):
        make_core("gru", I, 0)
    with pytest.raises(ValueError, match="input_size must be an integer >= 1, got 2.5"):
        make_core("lif", 2.5, H)
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1, got True"):
        make_core("grsn", I, True)
    with pytest.raises(ValueError, match="beta and threshold must be numbers"):
        make_core("lif", I, H, beta="high")
    with pytest.raises(ValueError, match="substeps must be an integer >= 1, got 0"):
        SubstepCore(make_core("lif", I, H), 0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 2.0"):
        make_core("lif", I, H).initial_state(2.0)


def test_numpy_integers_are_accepted_wherever_a_count_is():
    core = make_core("grsn", np.int64(3), np.int32(4), substeps=np.int64(2))
    assert (core.input_size, core.hidden_size, core.substeps) == (3, 4, 2)
    assert all(type(v) is int for v in (core.input_size, core.hidden_size, core.substeps, core.output_size))
    state = core.initial_state(np.int64(5))
    assert state["mem"].shape == (5, 4)
    assert SubstepCore(make_core("lif", I, H), np.int16(3)).substeps == 3


def test_spike_function_is_snntorch_atan():
    u = torch.tensor([-0.5, 0.0, 0.5], requires_grad=True)
    s = atan_spike(u)
    s.sum().backward()
    assert s.tolist() == [0.0, 0.0, 1.0]
    expected = 1 / (1 + (torch.pi * u.detach()) ** 2)  # alpha=2: alpha/2 / (1 + (pi/2 alpha u)^2)
    assert torch.allclose(u.grad, expected)


def test_spike_function_at_threshold_is_spikingjelly_atan():
    # SpikingJelly's surrogate.ATan(alpha=2): heaviside(u) = (u >= 0) forward, alpha/2 / (1 + (pi/2 alpha u)^2)
    # backward; snnTorch's atan has the same backward and fires only for u > 0
    u = torch.tensor([-0.5, 0.0, 0.5, 2.0], requires_grad=True)
    s = atan_spike_at_threshold(u)
    (s * torch.arange(1.0, 5.0)).sum().backward()
    assert s.tolist() == [0.0, 1.0, 1.0, 1.0]
    alpha = 2.0
    expected = alpha / 2 / (1 + (torch.pi / 2 * alpha * u.detach()) ** 2) * torch.arange(1.0, 5.0)
    assert torch.allclose(u.grad, expected)
    v = u.detach().clone().requires_grad_(True)
    (atan_spike(v) * torch.arange(1.0, 5.0)).sum().backward()
    assert torch.equal(u.grad, v.grad)
    assert atan_spike(u.detach()).tolist() == [0.0, 0.0, 1.0, 1.0]


# -- the authors' GRSN ----------------------------------------------------------------------------------------
class _HeavisideAtLeast(torch.autograd.Function):
    """Reference spike: 1 where u >= 0; backward 1 / (1 + (pi u)^2), SpikingJelly's ATan at alpha = 2."""

    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return (u >= 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad):
        (u,) = ctx.saved_tensors
        return grad / (1 + (torch.pi * u) ** 2)


def _authors_reference(core, x, h=None, v=None, detach_reset=False):
    """The equations of the authors' cell, step by step, with the core's weights: (spikes, h, V) per step."""
    B = x.shape[1]
    h = torch.zeros(B, core.hidden_size) if h is None else h
    v = torch.zeros(B, core.hidden_size) if v is None else v
    spikes, hs, vs = [], [], []
    for t in range(x.shape[0]):
        forget = torch.sigmoid(x[t] @ core.forget_gate.weight.T + core.forget_gate.bias)
        cand = torch.relu(x[t] @ core.input_gate.weight.T + core.input_gate.bias)
        h = forget * h + (1 - forget) * cand
        v = v + (h - v) / 2.0  # tau = 2, decay_input=True, v_reset=0
        s = _HeavisideAtLeast.apply(v - 1.0)
        v = v - (s.detach() if detach_reset else s) * 1.0
        spikes.append(s)
        hs.append(h)
        vs.append(v)
    return torch.stack(spikes), torch.stack(hs), torch.stack(vs)


def test_authors_cell_follows_its_equations_and_the_reset_carries_gradient():
    core = build("grsn-first-release")
    x = drive(8, 4)
    trace = Trace()
    out, _ = core(x, trace=trace)
    ref_spk, ref_h, ref_v = _authors_reference(core, x)
    assert 0 < ref_spk.sum() < ref_spk.numel(), "the test input must make some neurons fire, not all"
    # the reference multiplies one step at a time, the core all steps at once: equal spikes as long as no
    # membrane before its reset (V + S) comes within rounding of the threshold (float_rounding)
    assert_spikes_cannot_flip(ref_v + ref_spk, 1.0, terms=8 * (I + H + 1))
    assert torch.equal(out, ref_spk)
    assert torch.allclose(trace["h"], ref_h, atol=1e-6) and torch.allclose(trace["mem"], ref_v, atol=1e-6)
    weight = torch.linspace(-1, 1, H)

    def grads(spikes):
        core.zero_grad()
        (spikes * weight).sum().backward()
        return [p.grad.clone() for p in core.parameters()]

    ours = grads(core(x)[0])
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(ours, grads(_authors_reference(core, x)[0])))
    detached = grads(_authors_reference(core, x, detach_reset=True)[0])
    assert any((a - b).abs().max() > 1e-4 for a, b in zip(ours, detached)), "the reset must carry a gradient"
    # one step across the threshold: dV/dV_hat = 1 - surrogate'(V_hat - 1), not 1 as with a detached reset
    v_hat = torch.tensor([1.25], requires_grad=True)
    (v_hat - atan_spike_at_threshold(v_hat - 1.0)).backward()
    assert v_hat.grad.item() == pytest.approx(1 - 1 / (1 + (torch.pi * 0.25) ** 2))


def test_authors_tau_is_fixed_and_the_gates_are_the_only_parameters():
    core = build("grsn-first-release", tau=4.0)
    assert sorted(n for n, _ in core.named_parameters()) == [
        "forget_gate.bias", "forget_gate.weight", "input_gate.bias", "input_gate.weight"]
    assert core.tau == 4.0 and not isinstance(core.tau, torch.Tensor)
    out, _ = core(drive(6, 2))
    out.sum().backward()
    assert core.tau == 4.0
    # tau enters the charge V + (h - V) / tau: one step from V = 0 charges h / tau
    trace = Trace()
    core(drive(1, 2), trace=trace)
    assert torch.allclose(trace["mem"] + trace["spk"], trace["h"] / 4.0, atol=1e-6)
    for bad in (1.0, 0.5, "slow"):
        with pytest.raises(ValueError, match="tau"):
            make_core("grsn-first-release", I, H, tau=bad)


@pytest.mark.parametrize("sizes", [(3, 6), (6, 3), (48, 128)])
def test_authors_weights_orthogonal_biases_zero(sizes):
    torch.manual_seed(0)
    core = make_core("grsn-first-release", *sizes)
    for gate in (core.forget_gate, core.input_gate):
        W = gate.weight.detach()
        gram = W.T @ W if W.shape[0] >= W.shape[1] else W @ W.T  # orthonormal columns (tall) or rows (wide)
        assert torch.allclose(gram, torch.eye(min(W.shape)), atol=1e-5)
        assert torch.equal(gate.bias, torch.zeros_like(gate.bias))
    assert not torch.allclose(core.forget_gate.weight, core.input_gate.weight)


def test_authors_membrane_reset_at_every_call():
    x = drive(12, 4)
    reset = build("grsn-first-release")  # the authors' reset_net after every forward call
    carried = build("grsn-first-release", reset_membrane_each_call=False)
    assert all(torch.equal(p, q) for p, q in zip(reset.parameters(), carried.parameters()))
    with torch.no_grad():
        sequence, _ = reset(x, trace=(trace := Trace()))  # training: one T-step call carries V over its steps
        assert torch.equal(sequence, carried(x)[0])
    # acting (below) multiplies one step at a time, the sequence call all steps at once: the same spikes as long
    # as no membrane before its reset comes within rounding of the threshold (float_rounding)
    assert_spikes_cannot_flip(trace["mem"] + trace["spk"], 1.0, terms=12 * (I + H + 1))
    with torch.no_grad():
        steps = {}
        for name, core in (("reset", reset), ("carried", carried)):
            state, outs = core.initial_state(4), []
            for t in range(12):  # acting: one call per environment step
                out, state = core(x[t : t + 1], state)
                outs.append(out)
            steps[name] = torch.cat(outs)
            if name == "reset":
                assert torch.equal(state["mem"], torch.zeros(4, H))
            else:
                assert state["mem"].abs().sum() > 0
    assert torch.equal(steps["carried"], sequence)
    assert not torch.equal(steps["reset"], sequence), "acting with a fresh membrane must change the spikes"
    # with V = 0 at every call a unit fires exactly when V_hat = h / 2 reaches 1, i.e. h >= 2
    trace = Trace()
    with torch.no_grad():
        state = reset.initial_state(4)
        for t in range(12):
            _, state = reset(x[t : t + 1], state, trace=trace)
    assert torch.equal(trace["spk"], (trace["h"] / 2.0 >= 1.0).float())


def test_authors_episode_start_resets_h_and_mem():
    core = build("grsn-first-release", reset_membrane_each_call=False)
    x = drive(5, 3)
    with torch.no_grad():
        _, warm = core(drive(7, 3, seed=4))
        assert warm["h"].abs().sum() > 0 and warm["mem"].abs().sum() > 0
        starts = torch.zeros(5, 3, dtype=torch.bool)
        starts[0, 1] = True
        trace = Trace()
        core(x, warm, episode_start=starts, trace=trace)
        fresh = Trace()
        core(x[:, 1:2], core.initial_state(1), trace=fresh)
        half = Trace()  # only h reset: the warm membrane would still show
        core(x[:, 1:2], {"h": torch.zeros(1, H), "mem": warm["mem"][1:2]}, trace=half)
    for key in ("h", "mem", "spk"):  # a batch of 1 and a batch of 3 may differ in the last bit of a product
        assert torch.allclose(trace[key][:, 1], fresh[key][:, 0], atol=1e-6), key
    assert not torch.equal(half["mem"], fresh["mem"])
    ref_spk, ref_h, ref_v = _authors_reference(core, x[:, 1:2])
    assert_spikes_cannot_flip(ref_v + ref_spk, 1.0, terms=5 * (I + H + 1))  # one step at a time vs all at once
    assert torch.equal(fresh["spk"], ref_spk) and torch.allclose(fresh["mem"], ref_v, atol=1e-6)
