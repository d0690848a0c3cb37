#!/usr/bin/python3
"""Regenerates the EmberServerTests fixtures.

    /usr/bin/python3 Tests/EmberServerTests/Fixtures/make_server_fixtures.py

slow.pt: [N, 2] float32 -> [N, 2]; returns its input doubled after spinning for input[0][0] rounds of
a 128x128 matrix product (a model whose run time a test controls), and raises for a negative first
value (a model that throws).

int_mod.pt: [N, 4] int64 -> [N, 8] int64: each value modulo 7, then the input itself (a model whose
answers show whether an int64 arrived exactly: 9007199254740993 % 7 is 5, but 4 after rounding
through a double).
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class Slow(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rounds = int(x[0][0].item())
        if rounds < 0:
            raise ValueError("negative input is not allowed")
        y = torch.eye(128)
        for _ in range(rounds):
            y = torch.tanh(y @ y)
        return x * 2 + y.sum() * 0


class Hungry(torch.nn.Module):
    """[N, 2] -> [N, 2]; allocates an input[0][0] x input[0][0] matrix first (a model that runs out of
    memory on demand)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = int(x[0][0].item())
        scratch = torch.zeros(n, n)
        return x + scratch.sum() * 0


class IntMod(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x % 7, x], dim=1)


if __name__ == "__main__":
    torch.jit.script(Slow().eval()).save(os.path.join(HERE, "slow.pt"))
    torch.jit.script(Hungry().eval()).save(os.path.join(HERE, "hungry.pt"))
    torch.jit.script(IntMod().eval()).save(os.path.join(HERE, "int_mod.pt"))
