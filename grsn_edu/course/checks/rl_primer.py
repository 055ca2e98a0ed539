"""Checks for the exercises of the reinforcement-learning primer (``notebooks/*_rl_primer.ipynb``).

Each ``check_*`` compares the reader's answer with the package's own code (:func:`grsn_edu.rl.gae.gae`, and
:func:`grsn_edu.rl.ppo.clipped_ppo_loss` read one sample at a time) and with values computed by hand, with the
contract of :func:`grsn_edu.course.checks.run_check`: a stub (it raises ``NotImplementedError``) is reported and not
checked, a wrong answer raises ``AssertionError`` with a hint, a right one prints a one-line confirmation; the check
returns the function the notebook goes on with (while the exercise is a stub: the reference solution, or a
placeholder in the student copy).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from grsn_edu.course.checks import mode_hint, run_check
from grsn_edu.course.plots.ppo_diagnostics import clipped_surrogate
from grsn_edu.rl.gae import gae

__all__ = ["check_discounted_returns", "check_gae_advantages", "check_clipped_objective", "package_returns",
           "package_advantages", "rollout_case"]

_TOLERANCE = 1e-5


def _as_numpy(values) -> np.ndarray:
    """A float64 numpy copy of a tensor, an array or a sequence of numbers."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().to(torch.float64).numpy().copy()
    return np.array([float(v) for v in values] if isinstance(values, (list, tuple)) else values, dtype=np.float64)


def _values(result, length: int, name: str) -> np.ndarray:
    """The reader's result as a float array of shape ``(length,)``, or an AssertionError that says what it is."""
    try:
        array = _as_numpy(result)
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"`{name}` should return a tensor or array of {length} numbers, got "
                             f"{type(result).__name__}") from None
    assert array.shape == (length,), (
        f"`{name}` should return one number per step, shape ({length},), got shape {array.shape}")
    return array


def package_returns(rewards, dones, gamma: float) -> np.ndarray:
    """``(T,)`` the discounted returns, read off the package's GAE: with every value estimate 0 and lambda = 1,
    :func:`grsn_edu.rl.gae.gae`'s advantages are the discounted returns."""
    r = torch.as_tensor(rewards, dtype=torch.float64)[:, None]
    d = torch.as_tensor(dones, dtype=torch.float64)[:, None]
    advantages, _ = gae(r, torch.zeros_like(r), d, torch.zeros(1, dtype=torch.float64), gamma, 1.0)
    return advantages[:, 0].numpy()


def package_advantages(rewards, values, dones, next_value: float, gamma: float, gae_lambda: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``(advantages (T,), returns (T,))`` of one environment's rollout from :func:`grsn_edu.rl.gae.gae`."""
    r, v, d = (torch.as_tensor(x, dtype=torch.float64)[:, None] for x in (rewards, values, dones))
    advantages, returns = gae(r, v, d, torch.tensor([float(next_value)], dtype=torch.float64), gamma, gae_lambda)
    return advantages[:, 0].numpy(), returns[:, 0].numpy()


def rollout_case(seed: int, steps: int = 40, end_probability: float = 0.15) -> dict:
    """A random rollout of one environment: rewards, value estimates, episode ends (the last step never one, so
    that ``next_value`` counts) and the value after the last step, as float64 tensors (``next_value`` a float)."""
    generator = torch.Generator().manual_seed(seed)
    rewards = torch.rand(steps, generator=generator, dtype=torch.float64) * 2 - 0.5
    values = torch.rand(steps, generator=generator, dtype=torch.float64) * 4
    dones = (torch.rand(steps, generator=generator, dtype=torch.float64) < end_probability).double()
    dones[-1] = 0.0
    dones[steps // 3] = 1.0  # at least one episode end inside the rollout
    return {"rewards": rewards, "values": values, "dones": dones, "next_value": 2.5}


def _show(array) -> str:
    return np.array2string(np.asarray(array, dtype=np.float64), precision=4, separator=", ", max_line_width=200)


# -- Exercise 1 --------------------------------------------------------------------------------------------------
#: Hand-computed cases of Exercise 1: (rewards, dones, gamma, returns).
RETURN_CASES = (
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], 0.5, [1.75, 1.5, 1.0]),
    ([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 0.0], 0.5, [2.0, 2.0, 5.0, 4.0]),
)


def check_discounted_returns(discounted_returns: Callable) -> Callable:
    """Exercise 1: ``discounted_returns(rewards, dones, gamma)`` must give the discounted return from every step.

    Checked on two rollouts computed by hand (one with an episode end in the middle) and on three random ones
    with several episode ends and gammas of 0, 0.9 and 0.99, against the package's GAE with all values 0 and
    lambda = 1 (:func:`package_returns`); tensors of shape ``(T,)`` go in, one number per step comes back.

    Returns:
        ``discounted_returns`` if it passes, while it is still the stub the reference solution (a placeholder in
        student mode).
    """
    return run_check("discounted_returns", discounted_returns, _verify_discounted_returns, "rl_primer")


def _returns_hint(got, rewards, dones, gamma) -> str:
    r, d = _as_numpy(rewards), _as_numpy(dones)
    ends = np.flatnonzero(d)
    if ends.size and np.allclose(got, package_returns(r, np.zeros_like(d), gamma), atol=_TOLERANCE):
        return ("the sum runs on into the next episode: where an episode ended (d_t = 1), the rewards after it "
                "belong to another episode's return.")
    if np.allclose(got, package_returns(r, d, 1.0), atol=_TOLERANCE):
        return "every reward counts in full: each step further ahead should weigh gamma times less."
    if np.allclose(got, gamma * package_returns(r, d, gamma), atol=_TOLERANCE):
        return "the reward of step t itself counts in full (gamma^0 = 1); only the later ones are discounted."
    if np.allclose(got, package_returns(r, d, gamma) - r, atol=_TOLERANCE):
        return "G_t includes the reward of step t itself."
    if np.allclose(got[::-1], package_returns(r[::-1].copy(), np.roll(d, 1)[::-1].copy(), gamma),
                   atol=_TOLERANCE):
        return ("that sums the rewards before step t; the return looks ahead: start from the last step and go "
                "backwards.")
    return mode_hint("G_t = r_t + gamma * (1 - d_t) * G_{t+1}, from the last step backwards (nothing follows it).",
                     "the return from step t is its reward plus the discounted return from the next step, as long "
                     "as the episode goes on.")


def _verify_discounted_returns(fn: Callable) -> str:
    cases = [(torch.tensor(r), torch.tensor(d), g, np.array(want)) for r, d, g, want in RETURN_CASES]
    for seed, gamma in zip((0, 1, 2), (0.0, 0.9, 0.99)):
        case = rollout_case(seed)
        cases.append((case["rewards"], case["dones"], gamma, package_returns(case["rewards"], case["dones"], gamma)))
    for rewards, dones, gamma, want in cases:
        got = _values(fn(rewards.clone(), dones.clone(), gamma), len(rewards), "discounted_returns")
        if not np.allclose(got, want, atol=_TOLERANCE):
            if len(rewards) <= 4:
                where = (f"rewards {_show(rewards)}, dones {_show(dones)}, gamma {gamma}: the returns are "
                         f"{_show(want)}, yours {_show(got)}")
            else:
                t = int(np.abs(got - want).argmax())
                where = f"a random rollout of {len(rewards)} steps, gamma {gamma}: at step {t} G = {want[t]:.4f}, " \
                        f"yours {got[t]:.4f}"
            raise AssertionError(f"{where}. Hint: {_returns_hint(got, rewards, dones, gamma)}")
    return ("Correct: your returns match the hand computations and the package's GAE (values 0, lambda 1) on "
            f"{len(cases)} rollouts.")


# -- Exercise 2 --------------------------------------------------------------------------------------------------
def check_gae_advantages(gae_advantages: Callable) -> Callable:
    """Exercise 2: ``gae_advantages(rewards, values, dones, next_value, gamma, gae_lambda)`` must give GAE.

    Checked against :func:`grsn_edu.rl.gae.gae` on a hand case (with lambda = 0 the advantages are the TD errors,
    with lambda = 1 the discounted returns minus the values) and on random rollouts of one environment with episode
    ends inside, for several gammas and lambdas.

    Returns:
        ``gae_advantages`` if it passes, while it is still the stub the reference solution (a placeholder in
        student mode).
    """
    return run_check("gae_advantages", gae_advantages, _verify_gae_advantages, "rl_primer")


#: A rollout small enough to follow by hand: 4 steps, the episode ends at step 1, a new one runs on.
GAE_HAND_CASE = {"rewards": torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=torch.float64),
                 "values": torch.tensor([2.0, 1.0, 3.0, 2.0], dtype=torch.float64),
                 "dones": torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=torch.float64), "next_value": 4.0}


def _advantages_hint(got, case: dict, gamma: float, gae_lambda: float) -> str:
    r, v, d, nv = case["rewards"], case["values"], case["dones"], case["next_value"]
    want, returns = package_advantages(r, v, d, nv, gamma, gae_lambda)
    if np.allclose(got, returns, atol=_TOLERANCE):
        return "that is A_t + V_t (the value target); return the advantages A_t."
    if np.allclose(got, package_advantages(r, v, torch.zeros_like(d), nv, gamma, gae_lambda)[0], atol=_TOLERANCE):
        return ("the episode end is ignored: where d_t = 1 there is no next value to bootstrap from and no later "
                "TD error of the same episode.")
    if np.allclose(got, package_advantages(r, v, d, 0.0, gamma, gae_lambda)[0], atol=_TOLERANCE):
        return "after the last step the next value is next_value, not 0 (the episode goes on)."
    if np.allclose(got, -want, atol=_TOLERANCE):
        return "the sign is flipped: delta_t is what happened (r_t + gamma V_{t+1}) minus what was expected (V_t)."
    return mode_hint("delta_t = r_t + gamma (1 - d_t) V_{t+1} - V_t and A_t = delta_t + gamma lambda (1 - d_t) "
                     "A_{t+1}, from the last step backwards, with V_T = next_value.",
                     "compute the TD error of each step, then add up the TD errors ahead within the episode, the "
                     "k-th one weighted by (gamma lambda)^k; go backwards from the last step.")


def _verify_gae_advantages(fn: Callable) -> str:
    runs = [(GAE_HAND_CASE, 0.9, 0.0), (GAE_HAND_CASE, 0.9, 1.0), (GAE_HAND_CASE, 0.5, 0.5)]
    runs += [(rollout_case(seed), gamma, lam) for seed, gamma, lam in ((3, 0.99, 0.95), (4, 0.9, 0.5), (5, 0.99, 1.0))]
    for case, gamma, lam in runs:
        want, _ = package_advantages(case["rewards"], case["values"], case["dones"], case["next_value"], gamma, lam)
        got = _values(fn(case["rewards"].clone(), case["values"].clone(), case["dones"].clone(), case["next_value"],
                         gamma, lam), len(want), "gae_advantages")
        if not np.allclose(got, want, atol=_TOLERANCE):
            if case is GAE_HAND_CASE:
                where = (f"rewards {_show(case['rewards'])}, values {_show(case['values'])}, dones "
                         f"{_show(case['dones'])}, next_value {case['next_value']}, gamma {gamma}, lambda {lam}: "
                         f"the advantages are {_show(want)}, yours {_show(got)}")
            else:
                t = int(np.abs(got - want).argmax())
                where = (f"a random rollout of {len(want)} steps, gamma {gamma}, lambda {lam}: at step {t} "
                         f"A = {want[t]:.4f}, yours {got[t]:.4f}")
            raise AssertionError(f"{where}. Hint: {_advantages_hint(got, case, gamma, lam)}")
    return (f"Correct: your advantages match the package's gae on {len(runs)} rollouts (lambda 0: the TD errors; "
            "lambda 1: returns minus values).")


# -- Exercise 3 --------------------------------------------------------------------------------------------------
#: Hand-computed cases of Exercise 3: (ratio, advantage, clip_coef, objective).
CLIP_CASES = (
    (1.5, 1.0, 0.2, 1.2),  # a good action made much likelier: the gain stops at 1 + eps
    (0.5, 1.0, 0.2, 0.5),  # a good action made less likely: not clipped, corrected in full
    (0.5, -1.0, 0.2, -0.8),  # a bad action made much less likely: the gain stops at 1 - eps
    (1.5, -1.0, 0.2, -1.5),  # a bad action made likelier: not clipped
    (1.1, 2.0, 0.2, 2.2),  # inside the clip range: the plain r A
)


def check_clipped_objective(clipped_objective: Callable) -> Callable:
    """Exercise 3: ``clipped_objective(ratio, advantage, clip_coef)`` must give PPO's clipped surrogate of a sample.

    Checked on five samples computed by hand (inside the clip range, and beyond it on either side for a positive
    and a negative advantage) and on a grid of ratios from 0.05 to 1.95, advantages of either sign and clip
    coefficients 0.1 to 0.3, against the package's :func:`grsn_edu.rl.ppo.clipped_ppo_loss` evaluated on that one
    sample (:func:`grsn_edu.course.plots.ppo_diagnostics.clipped_surrogate`).

    Returns:
        ``clipped_objective`` if it passes, while it is still the stub the reference solution (a placeholder in
        student mode).
    """
    return run_check("clipped_objective", clipped_objective, _verify_clipped_objective, "rl_primer")


def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should return one number, got {type(value).__name__}: {value!r:.60}") from None


def _clip_hint(fn: Callable) -> str:
    """The hint for a wrong ``fn``: the mistake whose formula gives the answer's values on every hand case, if any."""
    got = np.array([_number(fn(r, a, eps), "clipped_objective") for r, a, eps, _ in CLIP_CASES])
    r, a, eps = (np.array([case[i] for case in CLIP_CASES]) for i in range(3))
    clipped = np.clip(r, 1 - eps, 1 + eps)
    mistakes = (
        (clipped * a, "the clipped term alone is not the objective: where the unclipped r A is smaller (a step "
                      "that went the wrong way), it is kept, so that step is corrected in full."),
        (r * a, "that is the unclipped term r A alone: take the smaller of it and the same term with the ratio "
                "held inside [1 - eps, 1 + eps]."),
        (np.maximum(r * a, clipped * a), "PPO keeps the smaller (the pessimistic) of the two terms r A and "
                                         "clip(r) A, not the larger."),
        (np.minimum(r, clipped) * a, "multiply by A before taking the minimum: with a negative advantage the "
                                     "order flips."),
    )
    for values, hint in mistakes:
        if np.allclose(got, values, atol=_TOLERANCE):
            return hint
    return mode_hint("min(r A, clip(r, 1 - eps, 1 + eps) A).",
                     "the smaller of the plain term r A and the same term with r held inside the clip range.")


def _verify_clipped_objective(fn: Callable) -> str:
    cases = list(CLIP_CASES)
    for eps in (0.1, 0.2, 0.3):
        for a in (1.5, -0.7):
            ratios = np.round(np.linspace(0.05, 1.95, 20), 6)
            cases += [(float(r), a, eps, float(v)) for r, v in zip(ratios, clipped_surrogate(ratios, a, eps))]
    for r, a, eps, want in cases:
        got = _number(fn(r, a, eps), "clipped_objective")
        if abs(got - want) > _TOLERANCE:
            raise AssertionError(f"ratio {r:g}, advantage {a:g}, eps {eps:g}: the objective is {want:.4f}, yours "
                                 f"{got:.4f}. Hint: {_clip_hint(fn)}")
    return (f"Correct: your clipped objective matches the hand computations and the package's PPO loss on "
            f"{len(cases)} samples.")
