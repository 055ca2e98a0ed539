"""A replay buffer of whole episodes, for value-based recurrent agents (QMIX, VDN).

A recurrent agent is trained on whole episodes replayed from a fresh state, so the buffer stores episodes, not
transitions. All episodes are padded to the same length T; ``filled`` marks the steps that happened.
"""

from __future__ import annotations

import torch

__all__ = ["EpisodeBuffer"]

FIELDS = ("obs", "state", "actions", "reward", "terminated", "filled")


class EpisodeBuffer:
    """A ring buffer of ``capacity`` episodes: when full, a new episode overwrites the oldest.

    One episode (T steps, N agents, O observation and S state features): ``obs`` ``(T+1, N, O)``, ``state``
    ``(T+1, S)`` (the global state, for the mixer), ``actions`` ``(T, N)`` (long), ``reward`` ``(T,)`` (the team
    reward), ``terminated`` ``(T,)`` (1 where the episode terminated: no future to bootstrap from) and ``filled``
    ``(T,)`` (1 for steps that happened, 0 for padding).

    Example:
        >>> import torch
        >>> buffer = EpisodeBuffer(capacity=2, T=3, n_agents=2, obs_size=4, state_size=5)
        >>> episode = {"obs": torch.zeros(4, 2, 4), "state": torch.zeros(4, 5), "actions": torch.zeros(3, 2),
        ...            "reward": torch.ones(3), "terminated": torch.zeros(3), "filled": torch.ones(3)}
        >>> buffer.add(episode)
        >>> batch = buffer.sample(8, torch.Generator().manual_seed(0))
        >>> buffer.size, tuple(batch["obs"].shape), tuple(batch["reward"].shape)
        (1, (8, 4, 2, 4), (8, 3))
    """

    def __init__(self, capacity: int, T: int, n_agents: int, obs_size: int, state_size: int):
        self.capacity, self.size, self.next = capacity, 0, 0
        self.obs = torch.zeros(capacity, T + 1, n_agents, obs_size)
        self.state = torch.zeros(capacity, T + 1, state_size)
        self.actions = torch.zeros(capacity, T, n_agents, dtype=torch.long)
        self.reward = torch.zeros(capacity, T)
        self.terminated = torch.zeros(capacity, T)
        self.filled = torch.zeros(capacity, T)

    def add(self, episode: dict) -> None:
        """Store one episode (a dict with the fields above; other keys are ignored) in the next slot."""
        i = self.next
        for name in FIELDS:
            getattr(self, name)[i] = episode[name]
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def add_batch(self, episodes: dict) -> None:
        """Store a batch of episodes (each field with a leading batch axis, as
        :func:`~grsn_edu.rl.team.play_team_episodes` returns them), in order."""
        n = len(episodes["reward"])
        for k in range(n):
            self.add({name: episodes[name][k] for name in FIELDS})

    def sample(self, batch_size: int, generator: torch.Generator) -> dict:
        """``batch_size`` stored episodes drawn uniformly with replacement: ``{field: (batch_size, ...)}``."""
        idx = torch.randint(self.size, (batch_size,), generator=generator)
        return {n: getattr(self, n)[idx] for n in FIELDS}
