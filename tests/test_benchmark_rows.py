"""What a benchmark row records about the machine and the command."""

import os
import sys

import pytest

from conftest import REPO, load_script


@pytest.fixture(name="common")
def _common():
  return load_script(os.path.join("benchmarks", "common.py"),
                     "benchmarks_common")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                    reason="CPU affinity is Linux-only")
def test_pinned_run_says_so_in_hardware_and_command(common, monkeypatch):
  monkeypatch.setattr(os, "cpu_count", lambda: 4)
  monkeypatch.setattr(sys, "argv", [
      os.path.join(REPO, "benchmarks", "parzen_mnist.py"), "--run", "r"])
  monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
  assert "4 CPU cores," in common.hardware()
  assert common.command_line() == (
      "python benchmarks/parzen_mnist.py --run r")
  monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 1})
  assert "2 of 4 CPU cores (affinity)" in common.hardware()
  assert common.command_line() == (
      "taskset -c 1,3 python benchmarks/parzen_mnist.py --run r")
