"""The cue-recall task: the smallest test of recurrent memory.

One of ``n_cues`` cues is shown at step 0, distractor noise fills the next ``delay`` steps, and on the last of
them, step ``delay``, a *go* signal asks which cue it was. A network without memory can only guess (accuracy
``1 / n_cues``); a network whose memory fades within a few steps fails once the delay is longer than its memory.

Example:
    >>> import torch
    >>> task = CueRecallTask(n_cues=4, delay=3, noise=0.5)
    >>> x, labels = task.sample(8, torch.Generator().manual_seed(0))
    >>> tuple(x.shape), tuple(labels.shape), task.chance      # x is (T, B, I) with T = delay + 1, I = n_cues + 1
    ((4, 8, 5), (8,), 0.25)
    >>> bool((x[0, :, :4].argmax(-1) == labels).all())         # the cue at t=0 is the answer
    True
"""

from __future__ import annotations

import math

import torch

from grsn_edu.util.validation import check_int

__all__ = ["CueRecallTask"]


class CueRecallTask:
    r"""Remember a cue across a delay filled with distractor noise.

    One sequence has ``T = delay + 1`` steps and ``I = n_cues + 1`` input channels:

    * step 0: the cue, a one-hot vector on the first ``n_cues`` channels (``cue_strength`` at the cue's
      channel, 0 elsewhere); the label is the cue's index.
    * steps 1 ... ``delay``: distractor noise, independent :math:`\mathcal N(0, \text{noise}^2)` on every cue
      channel, so a distractor looks like a weak, random mixture of cues.
    * step ``delay``: also the decision step; the last channel (*go*) is 1 there and 0 everywhere else.

    With ``delay = 0`` the cue and the go signal arrive together and no memory is needed (a control).

    Args:
        n_cues: number of cues to tell apart, >= 2; chance accuracy is ``1 / n_cues``.
        delay: D, steps from the cue to the decision, >= 0.
        noise: standard deviation of the distractor noise, >= 0.
        cue_strength: amplitude of the cue, > 0.

    Attributes:
        input_size: I = n_cues + 1.
        seq_len: T = delay + 1.
        decision_step: the index of the decision step, ``delay``.
        chance: accuracy of guessing, ``1 / n_cues``.

    Example:
        >>> task = CueRecallTask(n_cues=3, delay=5)
        >>> task.input_size, task.seq_len, task.decision_step
        (4, 6, 5)
    """

    def __init__(self, n_cues: int = 4, delay: int = 10, noise: float = 0.5, cue_strength: float = 1.0):
        self.n_cues = check_int("n_cues", n_cues, minimum=2)
        self.delay = check_int("delay", delay, minimum=0)
        if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not math.isfinite(noise) or noise < 0:
            raise ValueError(f"noise (standard deviation of the distractors) must be a finite number >= 0, "
                             f"got {noise!r}")
        if isinstance(cue_strength, bool) or not isinstance(cue_strength, (int, float)) or not cue_strength > 0:
            raise ValueError(f"cue_strength must be a number > 0, got {cue_strength!r}")
        self.noise = float(noise)
        self.cue_strength = float(cue_strength)
        self.input_size = self.n_cues + 1
        self.seq_len = self.delay + 1
        self.decision_step = self.delay
        self.chance = 1.0 / self.n_cues

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw a batch of sequences.

        Args:
            batch_size: B, >= 1.
            generator: a seeded ``torch.Generator`` for reproducible batches (``None``: torch's global RNG).

        Returns:
            ``(x, labels)``: x ``(T, B, I)`` float32, labels ``(B,)`` int64 in ``[0, n_cues)``.
        """
        check_int("batch_size", batch_size)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        T, B, C = self.seq_len, batch_size, self.n_cues
        labels = torch.randint(C, (B,), generator=generator)
        x = torch.zeros(T, B, C + 1)
        x[0, torch.arange(B), labels] = self.cue_strength
        if T > 1:
            # always draw the noise, even when noise == 0, so the random stream does not depend on the noise level
            x[1:, :, :C] = self.noise * torch.randn(T - 1, B, C, generator=generator)
        x[self.decision_step, :, C] = 1.0
        return x, labels

    def __repr__(self) -> str:
        return (
            f"CueRecallTask(n_cues={self.n_cues}, delay={self.delay}, noise={self.noise}, "
            f"cue_strength={self.cue_strength})"
        )
