"""How much arithmetic a compiled step does, and how fast this machine can do it.

Used by `benchmarks/throughput.py`:

- `xla_flops`: the multiply-add FLOPs of the matrix products and convolutions
  that XLA actually runs for a function, read from its optimised HLO. Work
  that XLA prunes (for example weight gradients nobody applies) is not
  counted; element-wise work is not counted either, so the figure is the
  matmul-like work to compare with a matmul ceiling.
- `entry_fusions`: how many fused kernels the compiled function runs in turn
  (the element-wise and bookkeeping work beside the products).
- `matmul_ceiling`: the best float32 matrix-product rate, measured by chains
  of dependent products inside one compiled function (no per-call dispatch,
  and nothing XLA can hoist out of the loop).
- `step_compiler_ir`: XLA's view of a trainer's training step.
"""

from __future__ import annotations

import math
import re
import time
from typing import Dict, Iterable, Sequence, Tuple

import tensorflow as tf

# An HLO instruction: `%name = f32[2,3]{1,0} op(...)` (ROOT optional).
_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT\s+)?%(?P<name>[\w.\-]+)\s*=\s*(?P<type>\w+)\[(?P<dims>[\d,]*)\]"
    r"(?:\{[^}]*\})?\s+(?P<op>[\w\-]+)\((?P<args>[^)]*)\)(?P<attrs>.*)$")
_OPERAND = re.compile(r"%([\w.\-]+)")
_CONTRACTING = re.compile(r"lhs_contracting_dims=\{(?P<dims>[\d,]*)\}")
_RHS_CONTRACTING = re.compile(r"rhs_contracting_dims=\{(?P<dims>[\d,]*)\}")
_DIM_LABELS = re.compile(r"dim_labels=(?P<lhs>\w+)_(?P<rhs>\w+)->(?P<out>\w+)")
_WINDOW = re.compile(r"window=\{(?P<window>[^}]*)\}")

DEFAULT_MATMUL_SIZES: Tuple[Tuple[int, int], ...] = (
    (128, 1000), (512, 1000), (1024, 1024), (2048, 2048))


def _dims(text: str) -> Tuple[int, ...]:
  return tuple(int(d) for d in text.split(",") if d)


def _operands(args: str) -> Sequence[str]:
  """Operand names; operands may carry their type (`f32[2,3]{1,0} %x`)."""
  return _OPERAND.findall(args)


def _instructions(hlo_text: str):
  """(name -> output shape, parsed instructions) of an HLO module's text."""
  shapes: Dict[str, Tuple[int, ...]] = {}
  parsed = []
  for line in hlo_text.splitlines():
    match = _INSTRUCTION.match(line)
    if match:  # Headers, tuples and the like carry no dot or convolution.
      shapes[match["name"]] = _dims(match["dims"])
      parsed.append(match)
  return shapes, parsed


def hlo_flops(hlo_text: str) -> Dict[str, float]:
  """FLOPs (2 per multiply-add) of the `dot` and `convolution` ops in HLO.

  Returns {"dot": ..., "convolution": ..., "total": ...}.
  """
  shapes, parsed = _instructions(hlo_text)
  totals = {"dot": 0.0, "convolution": 0.0}
  for match in parsed:
    op, out = match["op"], _dims(match["dims"])
    operands = _operands(match["args"])
    if op == "dot":
      lhs = shapes[operands[0]]
      contracting = _CONTRACTING.search(match["attrs"])
      size = math.prod(lhs[d] for d in _dims(contracting["dims"])) if (
          contracting) else 1
      totals["dot"] += 2.0 * math.prod(out) * size
    elif op == "convolution":
      totals["convolution"] += 2.0 * _convolution_macs(
          match["attrs"], shapes[operands[0]], shapes[operands[1]], out)
  totals["total"] = totals["dot"] + totals["convolution"]
  return totals


def entry_fusions(hlo_text: str) -> int:
  """Fusions called from the module's ENTRY computation: roughly the kernels
  one run of the compiled function launches, one after another."""
  count, in_entry = 0, False
  for line in hlo_text.splitlines():
    if line.startswith("ENTRY"):
      in_entry = True
    elif in_entry and line.startswith("}"):
      break
    elif in_entry:
      match = _INSTRUCTION.match(line)
      count += bool(match and match["op"] == "fusion")
  return count


def hlo_dots(hlo_text: str) -> list:
  """The matrix products of an HLO module as (lhs shape, rhs shape,
  lhs contracting dims, rhs contracting dims); products with batch
  dimensions are left out."""
  shapes, parsed = _instructions(hlo_text)
  dots = []
  for match in parsed:
    if match["op"] != "dot" or "batch_dims" in match["attrs"]:
      continue
    lhs, rhs = (shapes[name] for name in _operands(match["args"])[:2])
    contracting = {side: _dims(m["dims"]) for side, m in (
        ("lhs", _CONTRACTING.search(match["attrs"])),
        ("rhs", _RHS_CONTRACTING.search(match["attrs"]))) if m}
    dots.append((lhs, rhs, contracting.get("lhs", ()),
                 contracting.get("rhs", ())))
  return dots


def dots_flops(dots: Sequence[tuple]) -> float:
  """FLOPs of the products listed by `hlo_dots`."""
  return sum(2.0 * math.prod(lhs) * math.prod(rhs) /
             max(math.prod(rhs[d] for d in rc), 1)
             for lhs, rhs, _, rc in dots)


def dots_alone_rate(dots: Sequence[tuple], seconds: float = 1.0) -> float:
  """FLOP/s of running just these products (fresh random operands each,
  every result used) in one compiled function: the best a step made of
  these matrix shapes could do on this machine."""
  operands = [(tf.random.normal(lhs), tf.random.normal(rhs))
              for lhs, rhs, _, _ in dots]
  flops = dots_flops(dots)

  @tf.function(jit_compile=True)
  def run(operands):
    total = 0.0
    for (a, b), (_, _, lc, rc) in zip(operands, dots):
      total += tf.reduce_sum(tf.tensordot(a, b, axes=[list(lc), list(rc)]))
    return total

  run(operands).numpy()
  count, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds or count < 3:
    run(operands).numpy()
    count += 1
  return flops * count / (time.perf_counter() - start)


def _window(attrs: str, rank: int) -> Dict[str, list]:
  """Per-spatial-dimension size, stride, padding and dilations."""
  fields = {"size": [1] * rank, "stride": [1] * rank, "lhs_dilate": [1] * rank,
            "rhs_dilate": [1] * rank, "pad": [(0, 0)] * rank}
  match = _WINDOW.search(attrs)
  for item in (match["window"].split() if match else ()):
    key, value = item.split("=")
    parts = value.split("x")
    if key == "pad":
      fields[key] = [tuple(int(p) for p in part.split("_")) for part in parts]
    elif key in fields:
      fields[key] = [int(p) for p in parts]
  return fields


def _useful_positions(size_in: int, size_out: int, window: int, stride: int,
                      pad_low: int, lhs_dilate: int, rhs_dilate: int) -> int:
  """(output, window) position pairs that land on a real input element,
  not on padding or on a hole of a dilated (transposed-conv) input."""
  last = (size_in - 1) * lhs_dilate
  count = 0
  for o in range(size_out):
    for w in range(window):
      p = o * stride + w * rhs_dilate - pad_low
      if 0 <= p <= last and p % lhs_dilate == 0:
        count += 1
  return count


def _convolution_macs(attrs: str, lhs: Tuple[int, ...],
                      rhs: Tuple[int, ...], out: Tuple[int, ...]) -> float:
  """Multiply-adds of an HLO convolution that touch real input elements."""
  labels = _DIM_LABELS.search(attrs)
  lhs_labels, rhs_labels, out_labels = labels["lhs"], labels["rhs"], labels["out"]
  spatial = [c for c in out_labels if c.isdigit()]
  window = _window(attrs, len(spatial))
  macs = (out[out_labels.index("b")] * out[out_labels.index("f")] *
          rhs[rhs_labels.index("i")])
  for i, label in enumerate(sorted(spatial)):
    macs *= _useful_positions(
        lhs[lhs_labels.index(label)], out[out_labels.index(label)],
        window["size"][i], window["stride"][i], window["pad"][i][0],
        window["lhs_dilate"][i], window["rhs_dilate"][i])
  return float(macs)


def step_compiler_ir(trainer, batch):
  """XLA's view of one training step of `trainer` on `batch`, as the loop
  compiles it (with the global step): call the result with stage="hlo" or
  "optimized_hlo". It does not train."""
  step = tf.function(trainer._train_step, jit_compile=True)  # pylint: disable=protected-access
  return step.experimental_get_compiler_ir(batch, tf.constant(0, tf.int64))


def xla_flops(fn, *args) -> Dict[str, float]:
  """`hlo_flops` of `fn` (a `tf.function` with `jit_compile=True`) on args."""
  hlo = fn.experimental_get_compiler_ir(*args)(stage="optimized_hlo")
  return hlo_flops(hlo)


def matmul_ceiling(sizes: Iterable[Tuple[int, int]] = DEFAULT_MATMUL_SIZES,
                   seconds: float = 1.0, repeats: int = 3) -> Dict[str, float]:
  """Best float32 matmul rate (FLOP/s) over sizes, with and without XLA.

  Each measurement multiplies an [m, k] matrix by a [k, k] one `r` times in a
  chain (every product needs the previous one) inside one `tf.function`.

  Returns {"flops_per_s": best, "m": .., "k": .., "xla": 0 or 1}.
  """
  best = {"flops_per_s": 0.0}
  for m, k in sizes:
    x = tf.random.normal([m, k])
    w = tf.random.normal([k, k]) / math.sqrt(k)  # Keeps the chain bounded.
    per_product = 2.0 * m * k * k
    for jit in (False, True):
      chain = _matmul_chain(jit)
      chain(x, w, tf.constant(1)).numpy()  # Trace and compile.
      count = max(2, int(seconds * 1.5e11 / per_product))
      for _ in range(repeats):
        start = time.perf_counter()
        chain(x, w, tf.constant(count)).numpy()
        rate = per_product * count / (time.perf_counter() - start)
        if rate > best["flops_per_s"]:
          best = {"flops_per_s": rate, "m": m, "k": k, "xla": int(jit)}
  return best


def _matmul_chain(jit: bool):
  @tf.function(jit_compile=jit)
  def chain(x, w, count):
    for _ in tf.range(count):
      x = tf.matmul(x, w)
    return tf.reduce_sum(x)
  return chain
