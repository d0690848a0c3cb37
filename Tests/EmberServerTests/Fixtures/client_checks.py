"""What oip_client.py and grpc_client.py both check with: a failed expectation, a tensor close to the
model's own output, and the random MLP rows both send."""
import numpy as np


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def close(actual, expected, atol=1e-5):
    expect(actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}")
    difference = float(np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))) if actual.size else 0.0
    expect(difference <= atol, f"largest difference {difference} > {atol}")


def mlp_rows(count, seed):
    """`count` rows of the example MLP's 16 features, the same for a given seed."""
    return np.random.default_rng(seed).standard_normal((count, 16)).astype(np.float32)
