"""FLOP counting from XLA's HLO and the matmul ceiling."""

import tensorflow as tf

import profiling


def _compiled(fn):
  return tf.function(fn, jit_compile=True)


def test_dot_flops_are_two_per_multiply_add():
  a, b = tf.ones([8, 16]), tf.ones([16, 4])
  flops = profiling.xla_flops(_compiled(lambda a, b: tf.matmul(a, b)), a, b)
  assert flops["dot"] == 2 * 8 * 16 * 4
  assert flops["convolution"] == 0


def test_same_padded_convolution_counts_only_real_taps():
  # 3x3 kernel, 'SAME' padding on 5x5: per channel pair, 4 corners see 4
  # taps, 12 edge pixels 6 and 9 inner pixels 9: 169 multiply-adds.
  images, kernel = tf.ones([1, 5, 5, 2]), tf.ones([3, 3, 2, 4])
  conv = _compiled(lambda x, k: tf.nn.conv2d(x, k, 1, "SAME"))
  assert profiling.xla_flops(conv, images, kernel)["convolution"] == (
      2 * 169 * 2 * 4)


def test_transposed_convolution_skips_the_dilation_holes():
  # Stride-2, 2x2 transposed convolution of a 3x3 input: every input pixel
  # meets each of the 4 kernel taps once: 36 multiply-adds per channel pair.
  images, kernel = tf.ones([1, 3, 3, 3]), tf.ones([2, 2, 5, 3])
  conv = _compiled(lambda x, k: tf.nn.conv2d_transpose(
      x, k, [1, 6, 6, 5], 2, "VALID"))
  assert profiling.xla_flops(conv, images, kernel)["convolution"] == (
      2 * 36 * 3 * 5)


def test_xla_removes_unused_work_that_the_request_contains():
  a, b = tf.ones([8, 16]), tf.ones([16, 4])

  def unused_product(a, b):
    tf.matmul(a, b)  # Result never used.
    return tf.matmul(a, b) + 1.0

  fn = _compiled(unused_product)
  requested = profiling.hlo_flops(fn.experimental_get_compiler_ir(a, b)(
      stage="hlo"))
  assert requested["dot"] >= 2 * 8 * 16 * 4
  assert profiling.xla_flops(fn, a, b)["dot"] == 2 * 8 * 16 * 4


def test_matmul_ceiling_reports_a_positive_rate_and_its_size():
  best = profiling.matmul_ceiling(sizes=((16, 32),), seconds=0.01, repeats=1)
  assert best["flops_per_s"] > 0
  assert (best["m"], best["k"]) == (16, 32)
  assert best["xla"] in (0, 1)


def test_hlo_dots_lists_each_product_and_times_them_alone():
  a, b = tf.ones([8, 16]), tf.ones([4, 16])
  fn = _compiled(lambda a, b: tf.matmul(a, b, transpose_b=True))
  dots = profiling.hlo_dots(fn.experimental_get_compiler_ir(a, b)(
      stage="optimized_hlo"))
  assert len(dots) == 1
  lhs, rhs, lhs_contracting, rhs_contracting = dots[0]
  assert sorted([lhs, rhs]) == [(4, 16), (8, 16)]
  assert lhs_contracting == rhs_contracting == (1,)
  assert profiling.dots_alone_rate(dots, seconds=0.01) > 0


def test_entry_fusions_counts_the_fused_kernels_of_the_entry_computation():
  text = "\n".join([
      "HloModule m",
      "%fused_a (p: f32[4]) -> f32[4] {",
      "  %p = f32[4]{0} parameter(0)",
      "  ROOT %e = f32[4]{0} exponential(f32[4]{0} %p)",
      "}",
      "ENTRY %main (x: f32[4]) -> f32[4] {",
      "  %x = f32[4]{0} parameter(0)",
      "  %f1 = f32[4]{0} fusion(f32[4]{0} %x), kind=kLoop, calls=%fused_a",
      "  %d = f32[4]{0} add(f32[4]{0} %f1, f32[4]{0} %x)",
      "  ROOT %f2 = f32[4]{0} fusion(f32[4]{0} %d), kind=kLoop, calls=%fused_a",
      "}"])
  assert profiling.entry_fusions(text) == 2
  # From a real compiled function: at least one kernel, none from outside.
  fn = _compiled(lambda x: tf.exp(x) * 2.0 + tf.reduce_sum(x))
  hlo = fn.experimental_get_compiler_ir(tf.ones([8]))(stage="optimized_hlo")
  assert profiling.entry_fusions(hlo) >= 1
