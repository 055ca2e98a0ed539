"""Opt-in recording of a core's per-step internals (spikes, membrane, gates) for plots and energy counts."""

from __future__ import annotations

from collections import defaultdict

import torch

__all__ = ["Trace"]


class Trace:
    """Records per-step internals of a core for analysis, plots and energy accounting.

    Pass an instance as ``trace=`` to a core; afterwards ``trace["spk"]`` is a ``(T, B, H)`` tensor (detached).
    Keys: ``x`` the input, ``drive`` the encoder's input current :math:`W_x x_t + b_x`, ``spk`` and ``mem`` the
    spikes and membrane after each step, ``spk_prev`` the spikes before it; GRSN adds ``forget`` (F_t),
    ``candidate`` and ``cur`` (the gated current c_t); the authors' GRSN (``grsn-first-release``) records ``forget``,
    ``candidate`` and ``h`` (its gated current), and no ``spk_prev`` (its reset follows the spike within the
    step); GRU and MLP record ``h``; SLSTM ``syn``.
    One trace may be passed to several consecutive calls (e.g. an agent acting with T=1 through an episode):
    the records are concatenated along time. Recording is opt-in: a core called without a trace records
    nothing and pays nothing.

    Example:
        >>> import torch
        >>> from grsn_edu import make_core, Trace
        >>> core = make_core("lif", 3, 5)
        >>> trace = Trace()
        >>> out, state = core(torch.randn(7, 2, 3), core.initial_state(2), trace=trace)
        >>> out, state = core(torch.randn(1, 2, 3), state, trace=trace)   # one more step, same trace
        >>> sorted(trace.keys()), tuple(trace["mem"].shape)
        (['drive', 'mem', 'spk', 'spk_prev', 'x'], (8, 2, 5))
    """

    def __init__(self):
        self._chunks: dict[str, list[torch.Tensor]] = defaultdict(list)

    def add(self, name: str, value: torch.Tensor) -> None:
        """Append one step ``(B, ...)`` of ``name``."""
        self._chunks[name].append(value.detach().unsqueeze(0))

    def put(self, name: str, value: torch.Tensor) -> None:
        """Append a whole sequence ``(T, B, ...)`` of ``name``."""
        self._chunks[name].append(value.detach())

    def keys(self) -> list[str]:
        return list(self._chunks)

    def __contains__(self, name: str) -> bool:
        return name in self._chunks

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self._chunks:
            raise KeyError(f"trace has no {name!r}; recorded: {self.keys()}")
        chunks = self._chunks[name]
        if len(chunks) == 1:
            return chunks[0]
        if len({c.shape[1:] for c in chunks}) > 1:
            raise ValueError(
                f"trace[{name!r}] was recorded with different batch sizes "
                f"{sorted({tuple(c.shape[1:]) for c in chunks})}; "
                "use one Trace per batch size"
            )
        return torch.cat(chunks)

    def as_dict(self) -> dict[str, torch.Tensor]:
        """All records as ``{name: (T, B, ...) tensor}``."""
        return {k: self[k] for k in self.keys()}
