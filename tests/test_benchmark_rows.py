"""What a benchmark row records about the machine and the command."""

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import REPO, TINY_VALIDATION, load_script


@pytest.fixture(name="common")
def _common():
  return load_script(os.path.join("benchmarks", "common.py"),
                     "benchmarks_common")


@pytest.fixture(name="uncapped")
def _uncapped(common, monkeypatch):
  """tables without the gradient-cap change, which every older clustering
  row gets, so the tests of earlier changes see only theirs."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(tables, "CHANGED_DEFAULTS", tuple(
      c for c in tables.CHANGED_DEFAULTS if c.words[0] != "--clip_norm"))
  return tables


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


@pytest.mark.parametrize("error,message,flags,line", [
    ("Interrupted", "SIGTERM: stopped at step 7.", False,
     "train.py: SIGTERM: stopped at step 7."),
    ("ConfigError", "train.batch_size must be positive.", False,
     "train.py: error: train.batch_size must be positive."),
    ("ConfigError", "train.batch_size must be positive.", True,
     "train.py: error: --bsize must be positive."),
])
def test_a_stopped_or_refused_benchmark_says_it_on_one_line(
    common, monkeypatch, capsys, error, message, flags, line):
  """A benchmark's main stops on a run's error with one line and the
  shell's status (143 after SIGTERM), as the command line does, not a
  traceback; given the command line's program, fields are named as its
  flags."""
  from aae_tf import cli, errors  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(sys, "argv", ["benchmarks/train.py"])

  def main(argv):
    assert argv == ["train.py"]
    raise (errors.Interrupted(message, 15) if error == "Interrupted"
           else errors.ConfigError(message))

  with pytest.raises(SystemExit) as stop:
    common.command_main(main, cli.MNIST if flags else None)(["train.py"])
  assert stop.value.code == (143 if error == "Interrupted" else 1)
  assert capsys.readouterr().err.splitlines() == [line]


def test_learning_curve_and_time_to_accuracy(common, tmp_path):
  """Per-epoch values from a run's event files, the training time summed
  within each invocation (a resumed run's idle gap is not counted), and the
  minutes until a threshold is first reached."""
  import time  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  logdir = tmp_path / "run" / "tensorboard"
  start = time.perf_counter()
  for steps in ((100, 200), (300,)):  # Two invocations: a resumed run.
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
      tf.summary.scalar("hparams_stand_in", 0.0, step=0)
      for step in steps:
        time.sleep(0.05)
        tf.summary.scalar("validation/error", 0.1 / step * 100, step=step)
    writer.close()
    time.sleep(0.3)  # Idle between sessions.
  elapsed = time.perf_counter() - start
  curve = common.epoch_curve(str(tmp_path / "run"), "validation/error")
  assert [p["epoch"] for p in curve] == [1, 2, 3]
  assert [p["step"] for p in curve] == [100, 200, 300]
  assert [round(p["value"], 4) for p in curve] == [0.1, 0.05, 0.0333]
  seconds = [p["train_seconds"] for p in curve]
  assert seconds == sorted(seconds)
  assert seconds[-1] <= elapsed - 0.5  # Both idle gaps left out.
  reached = common.time_to_reach(curve, (0.06, 0.04, 0.01))
  assert reached["0.06"] == round(seconds[1] / 60, 1)
  assert reached["0.01"] is None


def test_appended_rows_rewrite_the_table_and_keep_its_reading(
    common, tmp_path, monkeypatch):
  import tables  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(common, "RESULTS_DIR", str(tmp_path))
  monkeypatch.setattr(tables, "RESULTS_DIR", str(tmp_path))
  row = {"mode": "semisupervised", "recipe": "paper",
         "encoder_units": "1000x1000", "steps_per_epoch": 500,
         "epoch_seconds": [2.0, 3.0], "max_epoch": 10, "hours": 0.01,
         "hardware": "x86_64, 1 of 2 CPU cores (affinity), no GPU",
         "command": "taskset -c 1 python benchmarks/diagnostics/epoch_cost.py "
                    "--steps 5 --data_dir /data --out_dir /tmp/x"}
  common.append_results("epoch_cost", [row])
  page = tmp_path / "epoch_cost.md"
  page.write_text(page.read_text().replace("(No reading yet.)", "Read me."))
  common.append_results("epoch_cost", [dict(row, recipe="seed")])
  text = page.read_text()
  assert "Read me." in text
  assert text.count("| semisupervised | ") == 2  # One row per run.
  assert ("`python benchmarks/diagnostics/epoch_cost.py --steps 5`" in text)
  assert "| 1 of 2 |" in text


def test_rows_from_before_a_default_changed_keep_their_setting(uncapped):
  """A budget clustering run recorded before its VAT weight became 1 is
  reproduced with the 0.1 it ran with and grouped as a --vat 0.1 run; a run
  recorded after the change, with the same flags, is today's default. A run
  recorded before the run length changed keeps the epochs it ran, in its
  command and before the seed in its tag, as a run passing them is named."""
  tables = uncapped
  vat = next(c for c in tables.CHANGED_DEFAULTS if c.words[0] == "--vat")
  length = [c for c in tables.CHANGED_DEFAULTS
            if c.words[0] == "--maxepoch" and "clustering" in c.tag][-1]
  assert vat.before < length.before
  row = {"model": "clustering30_budget_seed1", "epochs": 8,
         "command": "taskset -c 0 python benchmarks/classify_mnist.py --mode "
                    "clustering --recipe budget --ncluster 30 --seed 1 "
                    "--data_dir /d --out_dir /o", "_first_recipe_row": 0}
  old, new = vat.before - 1, vat.before
  assert tables.classify_flags(row, old)[-4:] == ["--vat", "0.1",
                                                  "--maxepoch", "8"]
  assert tables.todays_tag(row, old) == "clustering30_budget_vat0.1_8ep_seed1"
  assert "--vat" not in tables.classify_flags(row, new)
  assert tables.todays_tag(row, new) == "clustering30_budget_8ep_seed1"
  assert tables.todays_tag(row, length.before) == row["model"]
  assert "--maxepoch" not in tables.classify_flags(row, length.before)
  longer = dict(row, epochs=20, model="clustering30_budget")
  assert tables.classify_flags(longer, new)[-2:] == ["--maxepoch", "20"]
  assert tables.todays_tag(longer, new) == "clustering30_budget_20ep"
  passed = dict(row, model="clustering30_budget_vat1_seed1",
                command=row["command"] + " --vat 1 --maxepoch 8")
  assert tables.todays_tag(passed, old) == passed["model"]
  assert tables.classify_flags(passed, old).count("--vat") == 1
  assert tables.classify_flags(passed, old).count("--maxepoch") == 1


def test_a_default_changed_for_some_cluster_counts_only(uncapped):
  """budget clustering's class-balance weight once became 10 for every
  cluster count: older 16- and 10-cluster runs ran paper_plus's 3,
  30-cluster runs already 10 (10-cluster runs also the 5-D style code and
  no warm-up of their time)."""
  tables = uncapped
  change = next(c for c in tables.CHANGED_DEFAULTS
                if c.words[0] == "--class_balance" and "budget" in c.tag)
  index = change.before - 1
  for clusters, words, tag in (
      (16, ["--class_balance", "3"], "clustering16_budget_balance3_seed2"),
      (10, ["--class_balance", "3"],
       "clustering10_budget_ncode5_balance3_warmup0_seed2"),
      (30, [], "clustering30_budget_seed2")):
    row = {"model": f"clustering{clusters}_budget_16ep_seed2", "epochs": 16,
           "command": "python benchmarks/classify_mnist.py --mode clustering "
                      f"--recipe budget --ncluster {clusters} --maxepoch 16 "
                      "--seed 2", "_first_recipe_row": 0}
    flags = tables.classify_flags(row, index)
    assert flags.count("--class_balance") == len(words) // 2
    if words:
      at = flags.index("--class_balance")
      assert flags[at:at + 2] == words
    assert tables.todays_tag(row, index) == tag.replace("_seed", "_16ep_seed")


def _cluster_line_patterns(tables):
  """The clustering by-seed lines' full tag patterns by (label, epochs)."""
  return {(r.label, r.epochs): r.pattern + r"(_seed\d+)?"
          for r in tables.CLUSTER_ROWS}


# A budget clustering run's command with the cluster count left out.
_CLUSTER_COMMAND = ("python benchmarks/classify_mnist.py --mode clustering "
                    "--ncluster {} --seed 1")


def _assert_named_as_then(tables, change, row, words, tag):
  """Before `change` `row` passes `words` and is named `tag`, from it as
  recorded; a 16-cluster twin keeps its name before it."""
  old = change.before - 1
  assert tables.classify_flags(row, old)[-len(words):] == words
  assert tables.todays_tag(row, old) == tag
  assert tables.todays_tag(row, change.before) == row["model"]
  _assert_sixteen_clusters_unchanged(tables, row, old)


def _assert_on_lines(tables, today, names, tag, own):
  """`names` sit on the by-seed line `today` (label, epochs), and `tag` on
  `own`, not on today's; returns the lines' patterns."""
  lines = _cluster_line_patterns(tables)
  for name in names:
    assert re.fullmatch(lines[today], name), name
  assert not re.fullmatch(lines[today], tag)
  assert re.fullmatch(lines[own], tag)
  return lines


def _assert_sixteen_clusters_unchanged(tables, row, index):
  """A 16-cluster twin of `row` keeps its tag at `index`."""
  sixteen = dict(row, model="clustering16_budget_seed1",
                 command=_CLUSTER_COMMAND.format(16))
  assert tables.todays_tag(sixteen, index) == sixteen["model"]


def test_ten_cluster_runs_before_their_own_settings_keep_those_of_16(common):
  """Budget clustering with 10 clusters once took 16 clusters' balance
  weight (5) and no warm-up: such runs are reproduced with both, and a
  warmed-up one sits on its weight's by-seed line, not on today's."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  change = next(c for c in tables.CHANGED_DEFAULTS
                if c.words[0] == "--warmup_epochs")
  row = {"model": "clustering10_budget_warmup1_seed1", "epochs": 24,
         "command": _CLUSTER_COMMAND.format(10) + " --warmup_epochs 1",
         "_first_recipe_row": 0}
  old = change.before - 1
  words = tables.classify_flags(row, old)
  assert words[-4:] == ["--class_balance", "5", "--ncode", "5"]
  assert words.count("--warmup_epochs") == 1
  tag = tables.todays_tag(row, old)
  assert tag == "clustering10_budget_ncode5_balance5_warmup1_seed1"
  plain = dict(row, model="clustering10_budget_seed1",
               command=_CLUSTER_COMMAND.format(10))
  assert tables.classify_flags(plain, old)[-6:] == [
      "--class_balance", "5", "--warmup_epochs", "0", "--ncode", "5"]
  assert tables.todays_tag(plain, old) == (
      "clustering10_budget_ncode5_balance5_warmup0_seed1")
  # At the warm-up's change only the later style code is added.
  assert tables.todays_tag(row, change.before) == (
      "clustering10_budget_ncode5_warmup1_seed1")
  _assert_sixteen_clusters_unchanged(tables, plain, old)
  lines = _assert_on_lines(
      tables, ("10 clusters, paper naming", 24),
      ("clustering10_budget_seed1", "clustering10_budget_warmup1",
       "clustering10_budget_balance20_warmup1_seed2"), tag,
      ("10 clusters with --class_balance 5, paper naming", 24))
  assert ("10 clusters with --warmup_epochs 1, paper naming", 24) not in lines
  assert ("16 clusters with --warmup_epochs 1, paper naming", 24) in lines


def test_ten_cluster_runs_before_their_10_d_style_code_keep_5(common):
  """Budget clustering with 10 clusters had the paper's 5-D style code
  before its own 10-D one: such runs pass --ncode 5 (named first, as the
  benchmark names it) and sit on that by-seed line, runs that passed
  today's 10 on the default's; 16 clusters keep 5."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  change = next(c for c in tables.CHANGED_DEFAULTS
                if c.words[0] == "--ncode")
  row = {"model": "clustering10_budget_balance20_warmup1_seed1",
         "epochs": 24, "_first_recipe_row": 0,
         "command": _CLUSTER_COMMAND.format(10) + " --warmup_epochs 1"
                    " --class_balance 20"}
  tag = "clustering10_budget_ncode5_balance20_warmup1_seed1"
  _assert_named_as_then(tables, change, row, ["--ncode", "5"], tag)
  lines = _assert_on_lines(
      tables, ("10 clusters, paper naming", 24),
      ("clustering10_budget_seed1", "clustering10_budget_ncode10",
       "clustering10_budget_ncode10_seed2"), tag,
      ("10 clusters with --ncode 5, paper naming", 24))
  assert ("10 clusters with --ncode 10, paper naming", 24) not in lines
  assert ("16 clusters with --ncode 5, paper naming", 24) not in lines
  assert ("16 clusters with --ncode 10, paper naming", 24) in lines


def test_thirty_cluster_runs_before_their_30_epochs_keep_24(common):
  """Budget clustering with 30 clusters ran 24 epochs before its own run
  length: such runs pass --maxepoch 24 and sit on that by-seed line, while
  runs that passed today's 30 sit on the default's; 16 clusters keep 24."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  change = next(c for c in tables.CHANGED_DEFAULTS
                if c.tag == "clustering30_budget")
  row = {"model": "clustering30_budget_seed1", "epochs": 24,
         "command": _CLUSTER_COMMAND.format(30), "_first_recipe_row": 0}
  tag = "clustering30_budget_24ep_seed1"
  _assert_named_as_then(tables, change, row, ["--maxepoch", "24"], tag)
  lines = _assert_on_lines(
      tables, ("30 clusters, paper naming", 30),
      ("clustering30_budget_seed1", "clustering30_budget_30ep_seed2"), tag,
      ("30 clusters, --maxepoch 24, paper naming", 24))
  assert ("30 clusters, --maxepoch 30, paper naming", 30) not in lines
  assert ("16 clusters, paper naming", 24) in lines
  assert ("16 clusters, --maxepoch 24, paper naming", 24) not in lines


def test_semisupervised_runs_before_the_50_epoch_default_keep_theirs(common):
  """A budget semi-supervised run from before its run length became 50
  epochs keeps its 20, in its command and before the seed in its tag; a run
  that passed its length is named and reproduced as it was."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  change = next(c for c in tables.CHANGED_DEFAULTS
                if c.words[0] == "--maxepoch" and "semisupervised" in c.tag)
  command = ("python benchmarks/classify_mnist.py --recipe budget "
             "--num_labeled 100 --seed 3")
  row = {"model": "semisupervised100_budget_seed3", "epochs": 20,
         "command": command, "_first_recipe_row": 0}
  old = change.before - 1
  words = tables.classify_flags(row, old)
  assert words[words.index("--maxepoch") + 1] == "20"
  # Its VAT of the time too (the 100-label default changed again since).
  assert tables.todays_tag(row, old) == (
      "semisupervised100_budget_vat0.3_vatramp0_20ep_seed3")
  thousand = dict(row, model="semisupervised1000_budget_seed3",
                  command=command.replace("100", "1000"))
  assert tables.todays_tag(thousand, old).endswith("_20ep_seed3")
  assert not tables.todays_tag(thousand, change.before).endswith("ep_seed3")
  passed = dict(row, model="semisupervised100_budget_vat0.3_vatramp0_50ep_seed3",
                epochs=50, command=command + " --vat 0.3 --vat_rampup 0 "
                "--maxepoch 50")
  assert tables.todays_tag(passed, old) == passed["model"]
  assert tables.classify_flags(passed, old).count("--maxepoch") == 1


def test_100_label_runs_before_the_vat_ramp_default_keep_their_vat(common):
  """A 100-label budget run from before its VAT weight rose to 0.6 over 5
  epochs in 20-epoch runs is reproduced with the weight 0.3, no ramp and
  the epochs it ran, and named as a run passing them is (the ramp after the
  weight and radius, the length before the seed); a run passing today's
  values is today's default, and other numbers of labels keep theirs."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  changes = [c for c in tables.CHANGED_DEFAULTS
             if c.tag.startswith("semisupervised100_budget")]
  assert [c.words[0] for c in changes] == ["--vat", "--vat_rampup",
                                           "--maxepoch"]
  old = changes[0].before - 1
  command = ("python benchmarks/classify_mnist.py --num_labeled 100 "
             "--seed 3")
  row = {"model": "semisupervised100_budget_seed3", "epochs": 50,
         "command": command, "_first_recipe_row": 0}
  assert tables.classify_flags(row, old)[-6:] == [
      "--vat", "0.3", "--vat_rampup", "0", "--maxepoch", "50"]
  assert tables.todays_tag(row, old) == (
      "semisupervised100_budget_vat0.3_vatramp0_50ep_seed3")
  radius = dict(row, model="semisupervised100_budget_eps2_seed3",
                command=command + " --vat_epsilon 2")
  assert tables.todays_tag(radius, old) == (
      "semisupervised100_budget_vat0.3_eps2_vatramp0_50ep_seed3")
  today = dict(row, epochs=20)
  assert tables.todays_tag(today, old + 1) == row["model"]
  assert "--vat" not in tables.classify_flags(today, old + 1)
  passed = dict(row, model="semisupervised100_budget_vat0.6_vatramp5_20ep_seed3",
                epochs=20, command=command + " --maxepoch 20 --vat 0.6 "
                "--vat_rampup 5")
  assert tables.todays_tag(passed, old) == passed["model"]
  thousand = dict(row, model="semisupervised1000_budget_seed3",
                  command=command.replace("100", "1000"))
  assert tables.todays_tag(thousand, old) == thousand["model"]


def test_a_default_that_changed_twice_names_the_one_of_the_runs_time(uncapped):
  """Budget clustering's class-balance weight was 3, then 10, then went by
  cluster count: a 16-cluster run that passed no weight gets the weight of
  its time, once; 30 clusters kept 10, so their runs keep their names."""
  tables = uncapped
  first, second = [c for c in tables.CHANGED_DEFAULTS
                   if c.words[0] == "--class_balance" and "budget" in c.tag
                   and not c.tag.startswith("clustering10")]
  assert first.before < second.before
  command = ("python benchmarks/classify_mnist.py --mode clustering "
             "--recipe budget --ncluster {} --maxepoch 16 --seed 1")
  row = {"model": "clustering16_budget_16ep_seed1", "epochs": 16,
         "command": command.format(16), "_first_recipe_row": 0}
  for index, weight in ((first.before - 1, "3"), (second.before - 1, "10")):
    words = tables.classify_flags(row, index)
    assert words.count("--class_balance") == 1
    assert words[words.index("--class_balance") + 1] == weight
    assert tables.todays_tag(row, index) == (
        f"clustering16_budget_balance{weight}_16ep_seed1")
  assert tables.todays_tag(row, second.before) == row["model"]
  thirty = dict(row, model="clustering30_budget_16ep_seed1",
                command=command.format(30))
  assert tables.todays_tag(thirty, second.before - 1) == thirty["model"]


def test_rows_from_before_the_gradient_cap_pass_it_off(common):
  """A budget clustering run recorded before the gradient cap is reproduced
  with --clip_norm 0, on a by-seed line of its own."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  cap = next(c for c in tables.CHANGED_DEFAULTS if c.words[0] == "--clip_norm")
  row = {"model": "clustering16_budget_16ep_seed1", "epochs": 16,
         "command": "python benchmarks/classify_mnist.py --mode clustering "
                    "--ncluster 16 --maxepoch 16 --seed 1",
         "_first_recipe_row": 0}
  assert tables.classify_flags(row, cap.before - 1)[-2:] == [
      "--clip_norm", "0"]
  assert tables.todays_tag(row, cap.before - 1) == (
      "clustering16_budget_16ep_clip0_seed1")
  assert "--clip_norm" not in tables.classify_flags(row, cap.before)
  # The mode's default recipe ran: no --recipe in today's command either,
  # but a run from before "budget" became the default ran "seed".
  assert "--recipe" not in tables.classify_flags(row, cap.before)
  older = dict(row, model="clustering16_balance1_16ep_seed1")
  assert tables.classify_flags(older, cap.before)[2:4] == ["--recipe", "seed"]
  assert tables.todays_tag(row, cap.before) == row["model"]
  lines = {r.label: r.pattern for r in tables.CLUSTER_ROWS}
  today = lines["16 clusters, paper naming"]
  uncapped = lines["16 clusters with --clip_norm 0, paper naming"]
  assert re.fullmatch(today, "clustering16_budget")
  assert not re.fullmatch(today, "clustering16_budget_clip0")
  assert re.fullmatch(uncapped, "clustering16_budget_balance5_clip0")


def test_by_seed_lines_give_the_flags_with_the_seed_as_s(common):
  """A by-seed line's flags are its latest run's with --seed S (added for
  seed 0, which runs without it); the line below with the same command says
  so instead of repeating it."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  command = ("python benchmarks/classify_mnist.py --mode clustering "
             "--ncluster 16 --maxepoch 24")
  today = 10 ** 6  # After every change of a default.
  rows = [dict(model="clustering16_budget_24ep", epochs=24, test_error=0.1,
               majority_naming_test_error=0.09, wall_time_s=600.0,
               command=command, _index=today, _first_recipe_row=0),
          dict(model="clustering16_budget_24ep_seed1", epochs=24,
               test_error=0.2, majority_naming_test_error=0.19,
               wall_time_s=1800.0, command=command + " --seed 1", _index=today + 1,
               _first_recipe_row=0)]
  lines = [line for line in tables.CLUSTER_ROWS
           if line.label in ("16 clusters, paper naming",
                             "16 clusters, majority naming")]
  assert [line.epochs for line in lines] == [24, 24]  # Today's default.
  table = tables.seed_table(rows, lines, range(3))
  assert table[0].endswith("| flags of classify_mnist.py (S: the seed) |")
  paper, majority = table[2:]
  assert "| 10.00% | 20.00% |  | 15.00% (2 of 3 seeds) | 20 |" in paper
  assert paper.endswith("--ncluster 16 --maxepoch 24 --seed S` |")
  assert majority.endswith("| as above |")
  assert tables.seed_flags(rows[0]) == (
      "`--mode clustering --ncluster 16 --maxepoch 24 --seed S`")
  # The clustering page leaves out the mode all its runs share.
  assert tables.seed_flags(rows[1], ("--mode",)) == (
      "`--ncluster 16 --maxepoch 24 --seed S`")


def test_chosen_epoch_is_the_lowest_validation_error(common):
  """The test error at the epoch of lowest validation error, the later of
  two equal ones; None without both curves."""
  del common  # Puts benchmarks/ on the path.
  import tables  # pylint: disable=g-import-not-at-top
  points = lambda values: [{"epoch": e + 1, "value": v}
                           for e, v in enumerate(values)]
  row = dict(validation_curve=points([0.05, 0.02, 0.03, 0.02]),
             curve=points([0.04, 0.03, 0.01, 0.025]))
  assert tables.test_at_chosen_epoch(row) == 0.025
  assert tables.test_at_chosen_epoch(dict(row, validation_curve=None)) is None


def test_time_to_accuracy_counts_epochs_on_the_validation_curve(common):
  """The median epoch at which a recipe's runs first reach each threshold,
  on their validation curves; the test curve only for rows without one."""
  del common  # Puts benchmarks/ on the path.
  tta = load_script(os.path.join("benchmarks", "time_to_accuracy.py"),
                    "benchmarks_time_to_accuracy")
  points = lambda values: [{"value": v} for v in values]
  command = "python benchmarks/classify_mnist.py --recipe paper"
  rows = [dict(model=f"semisupervised100_paper{suffix}", command=command,
               curve=points(test), validation_curve=points(validation))
          for suffix, test, validation in (
              ("", [0.06, 0.04, 0.02], [0.05, 0.03, 0.03]),
              ("_seed1", [0.06, 0.06, 0.06], [0.06, 0.04, 0.02]),
              ("_seed2", [0.04, 0.02, 0.02], [0.06, 0.06, 0.06]))]
  reach = tta.epochs_to_reach("paper", rows, (0.05, 0.03, 0.02))
  assert reach["0.05"] == {"median_epoch": 2, "runs": 3, "reached": 2}
  assert reach["0.03"] == {"median_epoch": 3, "runs": 3, "reached": 2}
  assert reach["0.02"] == {"median_epoch": None, "runs": 3, "reached": 1}
  test = tta.epochs_to_reach("paper", rows, (0.05,), "test")
  assert test["0.05"] == {"median_epoch": 2, "runs": 3, "reached": 2}
  untracked = [dict(r, validation_curve=None) for r in rows]
  assert tta.epochs_to_reach("paper", untracked, (0.05,))["0.05"]["runs"] == 0


def test_classify_rows_are_split_between_two_pages(common, tmp_path,
                                                   monkeypatch):
  """One classify_mnist.json writes two pages: the semi-supervised rows on
  classify_mnist.md, the clustering rows on cluster_mnist.md; appending a
  row rewrites both, each page keeping its own reading."""
  import tables  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(common, "RESULTS_DIR", str(tmp_path))
  monkeypatch.setattr(tables, "RESULTS_DIR", str(tmp_path))
  base = dict(epochs=2, wall_time_s=60.0, validation_error=0.1,
              test_error=0.1, hardware="x86_64, 2 CPU cores, no GPU")
  semi = dict(base, model="semisupervised100_paper_seed3",
              command="python benchmarks/classify_mnist.py --recipe paper "
                      "--num_labeled 100 --seed 3")
  cluster = dict(base, model="clustering16_budget_seed3",
                 majority_naming_test_error=0.09, naming_split="validation",
                 command="python benchmarks/classify_mnist.py --mode "
                         "clustering --recipe budget --ncluster 16 --seed 3")
  common.append_results("classify_mnist", [semi])
  for name in ("classify_mnist", "cluster_mnist"):
    page = tmp_path / f"{name}.md"
    page.write_text(page.read_text().replace("(No reading yet.)",
                                             f"About {name}."))
  common.append_results("classify_mnist", [cluster])
  classify = (tmp_path / "classify_mnist.md").read_text()
  clusters = (tmp_path / "cluster_mnist.md").read_text()
  assert "About classify_mnist." in classify
  assert "About cluster_mnist." in clusters
  runs = lambda text: text.split("## Every run")[1]
  assert "--num_labeled 100 --seed 3" in runs(classify)
  assert "--ncluster" not in runs(classify)
  assert "--ncluster 16 --seed 3" in runs(clusters)
  assert "--num_labeled" not in runs(clusters)
  assert "| 9.00% |" in runs(clusters)  # The majority naming column.


def test_run_tag_names_the_recipe_that_ran():
  """A run of the mode's default recipe is tagged as that recipe, so its
  rows sit with the runs that named it. (A process of its own: the script's
  flags and another benchmark's cannot share one.)"""
  program = textwrap.dedent("""
      import sys
      sys.path.insert(0, "benchmarks")
      import classify_mnist as script
      fv = script.FLAGS
      for args in sys.argv[1:]:
        fv.unparse_flags()
        fv(["classify_mnist.py", *args.split()])
        print(script.run_name_suffix(fv) or "-")
      """)
  cases = {"--mode clustering --seed 1": "_budget_seed1",
           "--mode clustering --recipe budget --seed 1": "_budget_seed1",
           "--mode clustering --maxepoch 8": "_budget_8ep",
           "--mode clustering --warmup_epochs 1": "_budget_warmup1",
           # Given over a recipe that warms up (10 clusters), 0 counts.
           "--mode clustering --warmup_epochs 0": "_budget_warmup0",
           "--mode dimreduction": "-",  # The seed recipe.
           "--recipe paper --vat 0.1": "_paper_vat0.1"}
  result = subprocess.run([sys.executable, "-c", program, *cases],
                          cwd=REPO, capture_output=True, text=True,
                          check=False)
  assert result.returncode == 0, result.stderr
  assert result.stdout.split() == list(cases.values())


@pytest.mark.parametrize("mode_flags", [
    ["--mode", "clustering", "--ncluster", "10"],
    ["--num_labeled", "10", "--labeled_bsize", "10"]], ids=["clustering", "semisupervised"])
def test_a_benchmark_run_writes_its_row(tmp_path, tiny_idx_dir, mode_flags):
  """One epoch of the benchmark on tiny data: its row has the errors, the
  exported SavedModel's error, the curve and the validation confusion
  (predicted class or cluster by digit), in a results folder of its own."""
  program = textwrap.dedent("""
      import sys
      sys.path.insert(0, "benchmarks")
      from absl import app
      import classify_mnist as script
      import tables
      script.common.RESULTS_DIR = tables.RESULTS_DIR = sys.argv[1]
      app.run(script.main, argv=["classify_mnist.py", *sys.argv[2:]])
      """)
  results = tmp_path / "results"
  args = ["--data_dir", tiny_idx_dir, "--out_dir", str(tmp_path / "runs"),
          "--maxepoch", "1", "--bsize", "10", "--noverify_checksums",
          "--validation_size", str(TINY_VALIDATION), "--units", "16,16",
          "--noxla", *mode_flags]
  result = subprocess.run([sys.executable, "-c", program, str(results),
                           *args], cwd=REPO, capture_output=True, text=True,
                          check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  with open(results / "classify_mnist.json") as f:
    [row] = json.load(f)
  assert row["epochs"] == 1 and len(row["validation_curve"]) == 1
  assert 0 <= row["test_error"] <= 1
  assert 0 <= row["saved_model_test_error"] <= 1
  confusion = np.asarray(row["validation_confusion"])
  assert confusion.shape == (10, 10)
  assert confusion.sum() == TINY_VALIDATION
  assert (confusion.sum(axis=0) == 1).all()  # One image of each digit.
  assert os.path.exists(results / "cluster_mnist.md")  # Both pages.
