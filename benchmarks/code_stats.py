"""How close held-out codes are to the prior (used by `unsupervised_mnist.py`)."""

from typing import Dict

import numpy as np

NUM_DIGITS = 10


def gaussian_code_stats(codes: np.ndarray) -> Dict[str, list]:
  """Per-dimension mean and standard deviation of codes."""
  return {"mean": codes.mean(axis=0).tolist(),
          "std": codes.std(axis=0).tolist()}


def component_assignments(prior, codes: np.ndarray) -> np.ndarray:
  """Most likely component of a `GaussianMixturePrior` for each 2-D code
  (first two dimensions)."""
  return np.argmax(prior.log_density_2d(codes[:, :2]), axis=1)


def digit_component_share(prior, codes: np.ndarray,
                          labels: np.ndarray) -> Dict[str, float]:
  """For each digit, the share of its codes in its most common component.

  Also returns the mean over digits and how many distinct components are the
  most common one of some digit (10 means every digit has its own).
  """
  comps = component_assignments(prior, codes)
  shares, modes = {}, set()
  for digit in range(NUM_DIGITS):
    c = comps[labels == digit]
    if not len(c):
      continue
    counts = np.bincount(c, minlength=prior.num_components)
    shares[str(digit)] = float(counts.max() / len(c))
    modes.add(int(counts.argmax()))
  return {"per_digit": shares,
          "mean": float(np.mean(list(shares.values()))) if shares else 0.0,
          "distinct_components": len(modes)}
