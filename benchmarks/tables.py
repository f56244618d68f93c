"""The markdown tables in results/, written from the JSON rows.

Every results/<name>.md has the same shape: a title and what is measured;
the best row per question with the command that reproduces it; a short
reading, written by hand between two markers and kept when the file is
rewritten; then one row per run. results/<name>.json keeps every field of
every run (curves included); the markdown is always rewritten from it:

  python benchmarks/tables.py            # rewrite every results/*.md
  python benchmarks/tables.py classify_mnist

No TensorFlow here: the benchmark scripts and the tests import it.
"""

import dataclasses
import functools
import json
import os
import re
import sys
from typing import Callable, List, Optional, Sequence, Tuple

from aae_tf import recipes

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(REPO, "results")
READING_START = "<!-- reading: by hand, kept when the tables are rewritten -->"
READING_END = "<!-- end of reading -->"
Column = Tuple[str, Callable[[dict], str]]


@dataclasses.dataclass(frozen=True)
class Table:
  """How one results/<name>.md is written from results/<name>.json.

  group: the question a row answers (one line of the best table per group).
  score: lower is better (the best row of its group); None: the latest row.
  best: the best table's columns; a "command" column is added at the end.
  runs: the run table's columns, one line per JSON row.
  source: the JSON it is written from, results/<source>.json (default: its
    own name); several pages can share one.
  select: which of the JSON's rows this page shows (default: all).
  runs_note: a sentence the run table's introduction ends with.
  """
  name: str
  title: str
  about: str
  group: Callable[[dict], Optional[str]]
  best: Sequence[Column]
  runs: Sequence[Column]
  score: Optional[Callable[[dict], float]] = None
  command: Callable[[dict], str] = None  # Default: reproduce().
  best_title: str = "Best per row"
  order: Optional[Callable[[dict], tuple]] = None  # Of the best table.
  # Further tables after the best one: (title, rows -> markdown lines).
  sections: Sequence[Tuple[str, Callable[[Sequence[dict]], List[str]]]] = ()
  source: Optional[str] = None
  select: Optional[Callable[[dict], bool]] = None
  runs_note: str = ""

  @property
  def json_name(self) -> str:
    return self.source or self.name


# ---------------------------------------------------------------- helpers


def pct(value) -> str:
  return "" if value is None else f"{100 * value:.2f}%"


def num(value, digits=0) -> str:
  return "" if value is None else f"{value:.{digits}f}"


def cores(row: dict) -> str:
  """"2", "1 of 2" or "2, shared": the cores a run had."""
  hardware = row.get("hardware", "")
  match = re.search(r"(\d+) of (\d+) CPU cores", hardware)
  text = (f"{match.group(1)} of {match.group(2)}" if match else
          (re.search(r"(\d+) CPU cores", hardware) or [None, "?"])[1])
  shared = "shared" in hardware or "shared" in row.get("note", "")
  return text + (", shared" if shared else "")


_BOILERPLATE = re.compile(
    r"^(taskset -c \S+ )?(PYTHONPATH=\S+ )?python \S+\.py ?")
_LOCAL_FLAGS = ("--data_dir", "--out_dir", "--save_path")


def flags(command: str, drop=()) -> List[str]:
  """The command's flags without the interpreter, the script, the CPU pin,
  local paths and --resume (a resumed run ends where one uninterrupted run
  does)."""
  return without_flags(_BOILERPLATE.sub("", command).split(), drop)


def without_flags(words: Sequence[str], drop=()) -> List[str]:
  """`words` without local paths, --resume and the flags in `drop` (with
  their values)."""
  out, skip = [], False
  for word in words:
    if skip:
      skip = False
      continue
    name = word.split("=")[0]
    if name in _LOCAL_FLAGS + tuple(drop):
      skip = "=" not in word
      continue
    if name == "--resume":
      continue
    out.append(word)
  return out


def script(command: str) -> str:
  """The run's script, where it is today (diagnostics moved after some
  runs)."""
  match = re.search(r"python (\S+\.py)", command)
  if not match:
    return "?"
  moved = os.path.join("benchmarks", "diagnostics",
                       os.path.basename(match.group(1)))
  if (not os.path.exists(os.path.join(REPO, match.group(1))) and
      os.path.exists(os.path.join(REPO, moved))):
    return moved
  return match.group(1)


def short_flags(row: dict, drop=()) -> str:
  words = flags(row["command"], drop)
  return f"`{' '.join(words)}`" if words else ""


def reproduce(row: dict, words: Optional[List[str]] = None) -> str:
  """The command that repeats the run here (MNIST from the auto sources; the
  runs read the IDX files with --data_dir, the same images)."""
  words = flags(row["command"]) if words is None else words
  return "`" + " ".join(["python", script(row["command"])] + words) + "`"


# ---------------------------------------------------------- classify_mnist

PAPER_ERROR = {"semisupervised100": 0.019, "semisupervised1000": 0.016,
               "semisupervisedAll": 0.0085, "clustering16": 0.0955,
               "clustering30": 0.041}
_TASKS = {"semisupervised100": "100 labels", "semisupervised1000": "1000 labels",
          "semisupervisedAll": "all labels", "clustering16": "16 clusters",
          "clustering30": "30 clusters", "clustering10": "10 clusters",
          "dimreduction1000": "dim. reduction, 1000 labels"}
_BEYOND = ("paper_plus", "_vat", "_balance", "_consistency")
# Rows written before --recipe existed: they ran what is now --recipe seed,
# with the flags of their time.
_FIRST_RECIPE_ROW = "semisupervised100_paper"


@dataclasses.dataclass(frozen=True)
class ChangedDefault:
  """A recipe default that changed after some runs were recorded: the rows
  before JSON index `before` whose tag matches `tag` and whose command does
  not pass `words[0]` ran with `words`, the default of their time. Today's
  command for them passes `words`, and their tag gains `part`, so they sit
  with the runs that pass it today: after the recipe, or with `last` where
  a run's name has it (before its seeds). "{epochs}" in `words` and `part`
  stands for the row's epochs (a changed run length)."""
  before: int
  tag: str
  words: Tuple[str, ...]
  part: str
  last: bool = False

  def applies(self, row: dict, index: int) -> bool:
    return (index < self.before and re.match(self.tag, row["model"]) and
            self.words[0] not in flags(row["command"]))

  def words_for(self, row: dict) -> List[str]:
    return [word.format(epochs=row["epochs"]) for word in self.words]

  def tagged(self, tag: str, row: dict) -> str:
    at = (re.search(r"(_seed\d+)?(_labels\d+)?$", tag).start() if self.last
          else re.match(self.tag, tag).end())
    return tag[:at] + self.part.format(epochs=row["epochs"]) + tag[at:]


CHANGED_DEFAULTS = (
    # paper_plus clustering before its class-balance weight went by cluster
    # count.
    ChangedDefault(80, r"clustering16_paper_plus", ("--class_balance", "10"),
                   "_balance10"),
    # budget clustering before its VAT weight became 1.
    ChangedDefault(113, r"clustering\d+_budget", ("--vat", "0.1"), "_vat0.1"),
    # budget semi-supervised before its VAT weight became 0.3.
    ChangedDefault(117, r"semisupervised\w+?_budget", ("--vat", "0.1"),
                   "_vat0.1"),
    # budget clustering before its run became 16 epochs (8, at first 20).
    ChangedDefault(124, r"clustering\d+_budget",
                   ("--maxepoch", "{epochs}"), "_{epochs}ep", last=True),
    # budget clustering before its run became 24 epochs (16); listed here
    # so that its tag part comes before later changes' (the cap's).
    ChangedDefault(152, r"clustering\d+_budget",
                   ("--maxepoch", "{epochs}"), "_{epochs}ep", last=True),
    # budget clustering with 30 clusters before its run became 30 epochs
    # (24).
    ChangedDefault(177, r"clustering30_budget",
                   ("--maxepoch", "{epochs}"), "_{epochs}ep", last=True),
    # budget clustering before its class-balance weight became 10 for every
    # cluster count (paper_plus's 3 for 16 clusters and those nearest it).
    ChangedDefault(129, r"clustering(10|16)_budget",
                   ("--class_balance", "3"), "_balance3"),
    # budget semi-supervised before its run became 50 epochs (20).
    ChangedDefault(130, r"semisupervised\w+?_budget",
                   ("--maxepoch", "{epochs}"), "_{epochs}ep", last=True),
    # budget clustering before its class-balance weight went by cluster
    # count (10 for every count).
    ChangedDefault(140, r"clustering(10|16)_budget", ("--class_balance", "10"),
                   "_balance10"),
    # budget semi-supervised with 1000 or all labels before its VAT went by
    # the number of labels (weight 0.3, radius 1 for every number).
    ChangedDefault(144, r"semisupervised(1000|All)\w*?_budget",
                   ("--vat_epsilon", "1"), "_eps1"),
    ChangedDefault(144, r"semisupervised(1000|All)\w*?_budget",
                   ("--vat", "0.3"), "_vat0.3"),
    # budget clustering before its gradients were capped.
    ChangedDefault(143, r"clustering\d+_budget", ("--clip_norm", "0"),
                   "_clip0", last=True),
    # budget clustering with 10 clusters before it took its own class-balance
    # weight (16 clusters' 5) and warmed up (none), named as the benchmark
    # names them: the warm-up after the weight.
    ChangedDefault(173, r"clustering10_budget", ("--class_balance", "5"),
                   "_balance5"),
    ChangedDefault(173, r"clustering10_budget(_balance[\d.]+)?",
                   ("--warmup_epochs", "0"), "_warmup0"),
    # budget clustering with 10 clusters before its style code became 10-D
    # (the paper's 5); last, as its part comes first in a run's name.
    ChangedDefault(177, r"clustering10_budget", ("--ncode", "5"), "_ncode5"),
    # budget semi-supervised with 100 labels before its VAT weight rose over
    # the first epochs, to 0.6, in runs of 20 epochs (0.3 from the start, 50
    # epochs); the ramp's part follows the weight's and radius's, as in a
    # run's name.
    ChangedDefault(186, r"semisupervised100_budget", ("--vat", "0.3"),
                   "_vat0.3"),
    ChangedDefault(186,
                   r"semisupervised100_budget(_vat[\d.]+)?(_eps[\d.]+)?",
                   ("--vat_rampup", "0"), "_vatramp0"),
    ChangedDefault(186, r"semisupervised100_budget",
                   ("--maxepoch", "{epochs}"), "_{epochs}ep", last=True),
)


def changes_for(row: dict, index: int) -> List[ChangedDefault]:
  """The CHANGED_DEFAULTS that apply to the row: per flag the oldest, the
  default of the row's time."""
  changes, passed = [], set()
  for change in CHANGED_DEFAULTS:
    if change.words[0] not in passed and change.applies(row, index):
      changes.append(change)
      passed.add(change.words[0])
  return changes


def todays_tag(row: dict, index: int) -> str:
  """The row's tag as a run with today's defaults and its flags is named."""
  tag = row["model"]
  for change in changes_for(row, index):
    tag = change.tagged(tag, row)
  return tag


def classify_family(row: dict) -> str:
  tag = row["model"]
  if "_budget" in tag:
    return "budget recipe"
  if any(term in tag for term in _BEYOND):
    return "beyond the paper"
  return "paper recipe" if "_paper" in tag else "seed recipe"


def classify_order(row: dict) -> tuple:
  task = row["model"].split("_")[0]
  families = ("seed recipe", "paper recipe", "beyond the paper",
              "budget recipe")
  tasks = list(_TASKS)
  return (tasks.index(task) if task in tasks else len(tasks),
          families.index(classify_family(row)))


def classify_group(row: dict) -> str:
  task = row["model"].split("_")[0]
  return f"{_TASKS.get(task, task)}, {classify_family(row)}"


def classify_command(row: dict, index: int) -> str:
  """Today's command for the run."""
  return reproduce(row, classify_flags(row, index))


def classify_flags(row: dict, index: int) -> List[str]:
  """The run's flags for today's command line: old rows' translated."""
  words = flags(row["command"])
  if "--mode" in words:  # The default mode.
    i = words.index("--mode")
    if words[i + 1] == "semisupervised":
      del words[i:i + 2]
  if "--num_labeled" in words and words[words.index("--num_labeled") + 1] == "0":
    i = words.index("--num_labeled")  # 0 meant all.
    del words[i:i + 2]
  if "--keep_prob" in words:
    words[words.index("--keep_prob")] = "--dropout"
  pre_recipe = index < row["_first_recipe_row"]
  if pre_recipe and "--mode" not in words and "--num_labeled" in words and (
      "--dropout" not in words):
    words += ["--dropout", "1"]  # The seed recipe now drops out with labels.
  if pre_recipe and "clustering" in words and (
      "--y_batch_statistics" not in words):
    words.append("--noy_batch_statistics")  # Now the seed recipe's default.
  # Without --recipe a run took its mode's default; the benchmark names it in
  # the tag since "budget" became one, and before that it was "seed".
  if "--recipe" not in words and "_budget" not in row["model"]:
    at = words.index("--mode") + 2 if "--mode" in words else 0
    words[at:at] = ["--recipe", "seed"]
  for change in changes_for(row, index):
    words += change.words_for(row)
  return words


def run_seed(row: dict) -> Optional[int]:
  """--seed of a run that draws its labels with it (no --labeled_seed)."""
  words = flags(row["command"])
  if "--labeled_seed" in words:
    return None
  return int(words[words.index("--seed") + 1]) if "--seed" in words else 0


@dataclasses.dataclass(frozen=True)
class SeedRow:
  """One line of a by-seed table: the runs whose tag matches `pattern`
  (the seed suffix left out) after `epochs` epochs."""
  label: str
  epochs: int
  pattern: str
  value: Callable[[dict], Optional[float]] = lambda r: r["test_error"]


SEED_WORD = "S"  # Stands for the seed in a by-seed line's command.


def seed_flags(row: dict, drop=()) -> str:
  """A run's flags without those in `drop`, its --seed written as
  SEED_WORD."""
  words = without_flags(classify_flags(row, row["_index"]), drop)
  if "--seed" in words:
    words[words.index("--seed") + 1] = SEED_WORD
  else:
    words += ["--seed", SEED_WORD]
  return "`" + " ".join(words) + "`"


def seed_table(rows: Sequence[dict], lines: Sequence[SeedRow],
               seeds: Sequence[int], first: str = "recipe",
               drop=()) -> List[str]:
  """Test error per seed and its mean (the latest run of each line and
  seed), with the mean of the runs' minutes and the benchmark flags of the
  line's latest run but those in `drop`, its seed written S ("as above"
  where the line above has the same)."""
  out = []
  for line in lines:
    pattern = re.compile(line.pattern + r"(_seed\d+)?$")
    runs = {}
    for row in rows:
      if (pattern.match(row["model"]) and row["epochs"] == line.epochs and
          run_seed(row) in seeds):
        runs[run_seed(row)] = row
    if not runs:
      continue
    values = [line.value(runs[s]) if s in runs else None for s in seeds]
    known = [v for v in values if v is not None]
    mean = sum(known) / len(known) if known else None
    minutes = sum(r["wall_time_s"] for r in runs.values()) / len(runs) / 60
    latest = max(runs.values(), key=lambda r: r["_index"])
    out.append(dict(label=line.label, epochs=line.epochs, values=values,
                    mean=mean, count=len(known), minutes=minutes,
                    command=seed_flags(latest, drop)))
  columns = ([first, "epochs"] + [f"seed {s}" for s in seeds] +
             ["mean", "minutes a run",
              f"flags of classify_mnist.py ({SEED_WORD}: the seed)"])
  commands = [r["command"] for r in out]
  shown = [c if i == 0 or c != commands[i - 1] else "as above"
           for i, c in enumerate(commands)]
  return [_line(columns), _line(["---"] * len(columns))] + [
      _line([r["label"], str(r["epochs"])] + [pct(v) for v in r["values"]] +
            [pct(r["mean"]) + ("" if r["count"] == len(seeds) else
                               f" ({r['count']} of {len(seeds)} seeds)"),
             num(r["minutes"]), command]) for r, command in zip(out, shown)]


def test_at_chosen_epoch(row: dict) -> Optional[float]:
  """Test error at the epoch of lowest validation error (the later of equal
  ones) among the epochs with a test point (every epoch in a benchmark
  run), from the row's curves; None for rows without both."""
  validation = {p["epoch"]: p["value"] for p in row.get("validation_curve")
                or ()}
  test = {p["epoch"]: p["value"] for p in row.get("curve") or ()}
  epochs = [e for e in validation if e in test]
  if not epochs:
    return None
  return test[min(epochs, key=lambda e: (validation[e], -e))]


_CHOSEN = ", epoch chosen on validation"
# 100 labels, one labelled draw per run seed: the recipes side by side.
DRAW_ROWS = (
    SeedRow("paper", 50, r"semisupervised100_paper"),
    SeedRow("paper_plus", 50,
            r"semisupervised100_(paper_plus|paper_vat0.1_eps1_balance10)"),
    SeedRow("budget (the default)", 20,
            r"semisupervised100_budget(_vat0.6_vatramp5)?(_20ep)?"),
    SeedRow("budget (the default)" + _CHOSEN, 20,
            r"semisupervised100_budget(_vat0.6_vatramp5)?(_20ep)?",
            test_at_chosen_epoch),
    SeedRow("budget --maxepoch 50", 50,
            r"semisupervised100_budget(_vat0.6_vatramp5)?_50ep"),
    SeedRow("budget --vat 0.3 --vat_rampup 0 --maxepoch 50", 50,
            r"semisupervised100_budget_vat0.3_vatramp0_50ep"),
    SeedRow("budget --vat 0.3 --vat_rampup 0 --maxepoch 50" + _CHOSEN, 50,
            r"semisupervised100_budget_vat0.3_vatramp0_50ep",
            test_at_chosen_epoch),
    SeedRow("budget --vat 0.3 --vat_rampup 0 --maxepoch 80", 80,
            r"semisupervised100_budget_vat0.3_vatramp0_80ep"),
    SeedRow("budget --vat 0.3 --vat_rampup 0", 20,
            r"semisupervised100_budget_vat0.3_vatramp0_20ep"),
    SeedRow("budget --vat 0.1 --vat_rampup 0 --maxepoch 50", 50,
            r"semisupervised100_budget_vat0.1_vatramp0_50ep"),
    SeedRow("budget --vat 0.1 --vat_rampup 0", 20,
            r"semisupervised100_budget_vat0.1_vatramp0_20ep"),
)
# 1000 labels, the same way (three draws).
DRAW_1000_ROWS = (
    SeedRow("paper --vat 0.1 --vat_epsilon 2", 60,
            r"semisupervised1000_paper_vat0.1_eps2"),
    SeedRow("budget (the default)", 50,
            r"semisupervised1000_budget(_vat0.1_eps2)?"),
    SeedRow("budget (the default)" + _CHOSEN, 50,
            r"semisupervised1000_budget(_vat0.1_eps2)?",
            test_at_chosen_epoch),
    SeedRow("budget --vat 0.3 --vat_epsilon 1", 50,
            r"semisupervised1000_budget_vat0.3_eps1"),
)

# All labels, by run seed (two).
ALL_LABEL_ROWS = (
    SeedRow("paper", 60, r"semisupervisedAll_paper"),
    SeedRow("paper_plus", 60, r"semisupervisedAll_paper_plus"),
    SeedRow("paper --vat 0.1 --vat_epsilon 2", 60,
            r"semisupervisedAll_paper_vat0.1_eps2"),
    SeedRow("budget (the default)", 50, r"semisupervisedAll_budget"),
    SeedRow("budget (the default)" + _CHOSEN, 50, r"semisupervisedAll_budget",
            test_at_chosen_epoch),
)


def _majority(row: dict) -> str:
  text = pct(row.get("majority_naming_test_error"))
  if row.get("matched_test_error") is not None:
    text += f" (matched {pct(row['matched_test_error'])})"
  return text


# Clustering with the default recipe (budget), named on validation: the
# paper's naming, the majority digit's and (10 clusters) the matching's.
# The budget recipe's runs, and its variants': (label, epochs, tag pattern);
# "{n}" stands for the cluster count, "{c}" for its style code size, "{w}"
# for its class-balance weight, "{u}" for its warm-up epochs and "{e}" (and
# epochs None) for its run length under budget today. Runs of the variants
# measured before 10 clusters' style code grew kept the paper's (_ncode5).
_BEFORE_NCODE = r"clustering{n}_budget(_ncode5)?"
_DEFAULT_RUN = _BEFORE_NCODE + r"(_balance{w})?(_warmup0)?(_vat1)?(_16ep)?"
# Variants measured only before the gradient cap: their runs, which pass
# --clip_norm 0 today, keep their lines.
_OLDER_VARIANTS = tuple(
    (f" with --class_balance {weight}", 16,
     _BEFORE_NCODE + rf"_balance{weight}(_warmup0)?(_vat1)?(_16ep)?")
    for weight in (3, 5, 10))
_CLUSTER_VARIANTS = (
    ("", None,
     r"clustering{n}_budget(_ncode{c})?(_balance{w})?(_warmup{u})?(_{e}ep)?"),
    (", --maxepoch 16", 16, _DEFAULT_RUN),
    *((f", --maxepoch {epochs}", epochs,
       rf"clustering{{n}}_budget(_ncode{{c}})?(_balance{{w}})?(_warmup{{u}})?"
       rf"_{epochs}ep")
      for epochs in (24, 30, 32)),
    *((f" with --ncode {ncode}", None,
       rf"clustering{{n}}_budget_ncode{ncode}(_balance{{w}})?(_warmup{{u}})?"
       r"(_{e}ep)?")
      for ncode in (5, 10)),
    (" with --warmup_epochs 1", 24,
     _BEFORE_NCODE + r"_warmup1(_24ep)?"),
    *((f" with --class_balance {weight}", 24,
       _BEFORE_NCODE + rf"_balance{weight}(_warmup{{u}})?")
      for weight in (5, 10, 40)),
    (" with --clip_norm 0", 16, _DEFAULT_RUN + "_clip0"),
    *((label, epochs, run + "(_clip0)?")
      for label, epochs, run in _OLDER_VARIANTS))
# Today's run and its earlier lengths: the first three variants.
_DEFAULT_VARIANTS = tuple(label for label, _, _ in _CLUSTER_VARIANTS[:3])


def _budget_balance(count: int) -> str:
  """The class-balance weight of budget clustering today, as tags spell it."""
  return f"{recipes.cluster_balance_weight('budget', count):g}"


def _budget_warmup(count: int) -> str:
  """The warm-up epochs of budget clustering today, as tags spell them."""
  return f"{recipes.cluster_warmup_epochs(count):g}"


def _todays(count: int) -> Tuple[str, ...]:
  """The variants' labels that name budget clustering's own settings."""
  return (f" with --ncode {recipes.cluster_ncode(count)}",
          f" with --class_balance {_budget_balance(count)}",
          f" with --warmup_epochs {_budget_warmup(count)}",
          f", --maxepoch {recipes.cluster_max_epoch(count)}")


CLUSTER_ROWS = tuple(
    SeedRow(f"{count} clusters{variant}, {naming}",
            epochs or recipes.cluster_max_epoch(count),
            run.format(n=count, c=recipes.cluster_ncode(count),
                       w=_budget_balance(count),
                       u=_budget_warmup(count),
                       e=recipes.cluster_max_epoch(count)), value)
    for count in (16, 30, 10)
    for variant, epochs, run in _CLUSTER_VARIANTS
    # A setting's own line is the default's where it is today's setting.
    if variant not in _todays(count)
    for naming, value in (
        ("paper naming", SeedRow.value),
        ("majority naming", lambda r: r.get("majority_naming_test_error")),
        ("matched", lambda r: r.get("matched_test_error")))
    # Majority naming for today's run and its earlier lengths, matching too
    # for 10 clusters (every run's are in the run table).
    if (naming == "paper naming" or
        (variant in _DEFAULT_VARIANTS and
         (naming == "majority naming" or count == 10))))


def classify_error(row: dict) -> str:
  text = pct(row["test_error"])
  exported = row.get("saved_model_test_error")
  if exported is not None and abs(exported - row["test_error"]) > 5e-5:
    text += f" (SavedModel {pct(exported)})"
  return text


def is_clustering(row: dict) -> bool:
  return row["model"].startswith("clustering")


_CHECKED = (
    "with the command line's flags and reports the test error of the "
    "trained model and, in a process that never imports `aae_tf`, of the "
    "exported SavedModel (shown only where the two differ). Settings are "
    "chosen on the validation split (the last 10,000 training images), so "
    "the best row of each question is the one with the lowest validation "
    "error; the test error is only reported.")
_JSON = ("`classify_mnist.json` keeps every row; rows recorded since each "
         "field was added also keep the per-epoch test curve, the per-epoch "
         "validation curve and the validation confusion (added in that "
         "order). This page and {other} are both written from it.")
_CLASSIFY_BEST = [
    ("question", classify_group),
    ("paper", lambda r: pct(PAPER_ERROR.get(r["model"].split("_")[0]))),
    ("test error", classify_error),
    ("validation", lambda r: pct(r["validation_error"])),
    ("epochs", lambda r: str(r["epochs"])),
    ("runs", lambda r: str(r["_group_size"]))]
def _run_flags(drop=()):
  """The run table's flags column: a run's flags without --maxepoch (its
  own column) and those in `drop`."""
  return ("flags", lambda r: "`{}`".format(" ".join(without_flags(
      classify_flags(r, r["_index"]), ("--maxepoch", *drop)))))


# A run's name (its folder and JSON "model") follows from its flags.
_CLASSIFY_RUNS = [
    ("epochs", lambda r: str(r["epochs"])),
    ("test error", classify_error),
    ("validation", lambda r: pct(r["validation_error"])),
    ("minutes", lambda r: num(r["wall_time_s"] / 60)),
    ("cores", cores),
    _run_flags()]
# Every run on the clustering page has --mode clustering: its tables leave
# it out of their flags.
_CLUSTER_MODE = ("--mode",)
_CLUSTER_MODE_FLAGS = "flags follow `--mode clustering`."
_NAMING_COLUMNS = [
    ("naming split", lambda r: r.get("naming_split", "train")),
    ("majority-naming error", _majority)]

# The two pages written from classify_mnist.json: one question per task and
# recipe family, its best run the one lowest on validation.
_classify_page = functools.partial(
    Table, source="classify_mnist", group=classify_group,
    score=lambda row: row["validation_error"], order=classify_order)

CLASSIFY = _classify_page(
    name="classify_mnist",
    title="Semi-supervised classification on MNIST",
    about=(
        "`benchmarks/classify_mnist.py` trains the semi-supervised AAE (100, "
        "1000 or all labels; and the dimensionality-reduction AAE with "
        "labels) " + _CHECKED + " Recipes: `seed` (Adam, the TF1 seed's), "
        "`paper` (the paper's appendix, SGD), beyond the paper (`--vat`, "
        "`--class_balance`, `--consistency`, off in `seed` and `paper`; "
        "`paper_plus` is `paper` with the ones that measured better), "
        "`budget` (the default: `paper_plus` with the run length and VAT set "
        "by the number of labels, rates annealed to the end of `--maxepoch` "
        "and averaged weights). " +
        _JSON.format(other="[cluster_mnist.md](cluster_mnist.md) "
                     "(clustering)")),
    best=_CLASSIFY_BEST,
    runs=_CLASSIFY_RUNS,
    sections=[("100 labels by labelled draw", lambda rows: [
        "Test error of each recipe on the same five labelled draws (`--seed "
        "S` draws the labels and seeds the run). \"epoch chosen on "
        "validation\": the same runs' test error at their epoch of lowest "
        "validation error in place of their last.", "",
        *seed_table(rows, DRAW_ROWS, range(5))]),
              ("1000 labels by labelled draw", lambda rows: [
                  "The same with 1000 labels, on three draws.", "",
                  *seed_table(rows, DRAW_1000_ROWS, range(3))]),
              ("All labels by run seed", lambda rows: [
                  "With every label, `--seed S` seeds the run alone.", "",
                  *seed_table(rows, ALL_LABEL_ROWS, range(2))])],
    select=lambda row: not is_clustering(row))

CLUSTER = _classify_page(
    name="cluster_mnist",
    title="Unsupervised clustering on MNIST",
    about=(
        "`benchmarks/classify_mnist.py --mode clustering` trains the "
        "clustering AAE " + _CHECKED + " Each cluster is named after the "
        "image of the naming split it is most sure of (the paper's rule, on "
        "its validation split, so there the same split names the clusters "
        "and picks the row; older rows named on training images); majority "
        "naming (each cluster's commonest digit) is a diagnostic, and with "
        "10 clusters the best one-to-one matching (IMSAT's) is given beside "
        "it. Recipes: `seed` (Adam, the TF1 seed's), `paper` (the paper's "
        "appendix, SGD), `paper_plus` (`paper` with `--vat` and "
        "`--class_balance`), `budget` (the default: `paper_plus` on 1200-unit "
        "networks with `--vat 1` and `--class_balance 5` (10 for 30 "
        "clusters, 20 and `--warmup_epochs 1` for 10), clusters named on "
        "validation, rates annealed to the end of `--maxepoch`, averaged "
        "weights and gradients capped at norm 50). " +
        _JSON.format(other="[classify_mnist.md](classify_mnist.md) "
                     "(semi-supervised)")),
    best=[*_CLASSIFY_BEST[:4], _NAMING_COLUMNS[0], *_CLASSIFY_BEST[4:]],
    runs=[*_CLASSIFY_RUNS[:3], *_NAMING_COLUMNS, *_CLASSIFY_RUNS[3:-1],
          _run_flags(_CLUSTER_MODE)],
    sections=[("By run seed", lambda rows: [
        "Test error of `--recipe budget` (the default) and its variants, "
        "clusters named on the validation split (the paper's protocol); "
        "each line's " + _CLUSTER_MODE_FLAGS, "",
        *seed_table(rows, CLUSTER_ROWS, range(3), "clusters, naming",
                    _CLUSTER_MODE)])],
    select=is_clustering,
    runs_note="Every run's " + _CLUSTER_MODE_FLAGS)

# ------------------------------------------------------ unsupervised_mnist


def _code_stats(row: dict) -> str:
  stats = row.get("test_code_stats")
  if stats:
    means = ", ".join(f"{m:+.2f}" for m in stats["mean"])
    stds = ", ".join(f"{s:.2f}" for s in stats["std"])
    return f"mean {means}; std {stds}"
  share = row.get("digit_component_share")
  if share:
    return (f"{share['mean']:.2f} of a digit's codes in its main component; "
            f"{share['distinct_components']} distinct main components")
  return ""


UNSUPERVISED = Table(
    name="unsupervised_mnist",
    title="Unsupervised AAE on MNIST",
    about=(
        "The paper's Figure 1 model with a 2-D Gaussian or 10-component "
        "mixture prior. Test reconstruction error: mean squared error per "
        "pixel on the [0, 1] scale, the posterior mean as the code. Codes vs "
        "prior: per-dimension mean and standard deviation of the test codes "
        "(Gaussian, target 0 and 1), or for the mixture how much of each "
        "digit falls in its most common component. Images/s: training "
        "images over the epochs after the first, evaluation, summaries and "
        "checkpoints included. Test codes: "
        "[Gaussian](unsupervised_gaussian_latent.png), "
        "[mixture](unsupervised_gmm_latent.png)."),
    group=lambda r: f"{r['prior']} prior",
    score=lambda r: r["test_reconstruction_mse"],
    best=[("model", lambda r: f"{r['prior']} prior, 2-D code"),
          ("test reconstruction MSE", lambda r: num(r["test_reconstruction_mse"], 4)),
          ("codes vs prior", _code_stats),
          ("epochs", lambda r: str(r["epochs"]))],
    runs=[("prior", lambda r: r["prior"]),
          ("epochs", lambda r: str(r["epochs"])),
          ("test reconstruction MSE", lambda r: num(r["test_reconstruction_mse"], 4)),
          ("train images/s", lambda r: num(r.get("train_images_per_s"))),
          ("minutes", lambda r: num(r["wall_time_s"] / 60)),
          ("cores", cores),
          ("flags", lambda r: short_flags(r, ("--maxepoch",)))])

# ------------------------------------------------------------ parzen_mnist


def _log_likelihood(row: dict) -> str:
  return f"{row['test_log_likelihood']:.1f} +- {row['test_standard_error']:.1f}"


PARZEN = Table(
    name="parzen_mnist",
    title="Parzen-window log-likelihood on MNIST",
    about=(
        "The paper's protocol: 10,000 model samples on the [0, 1] pixel "
        "scale, a Gaussian window whose width is chosen on the validation "
        "split, the mean log-likelihood (nats) of the 10,000 test images and "
        "its standard error. The paper's AAE: 340 +- 2. Each row evaluates a "
        "run trained with `experiment/aae_mnist.py --train` (model and "
        "epochs in the row)."),
    group=lambda r: "unsupervised AAE",
    score=lambda r: -r["test_log_likelihood"],
    best=[("model", lambda r: f"{r['model']}, {r['epochs']} epochs"),
          ("paper", lambda r: "340 +- 2"),
          ("test log-likelihood", _log_likelihood),
          ("validation", lambda r: num(r["validation_log_likelihood"], 1))],
    runs=[("run", lambda r: f"`{os.path.basename(r['run'])}`"),
          ("model", lambda r: r["model"]),
          ("epochs", lambda r: str(r["epochs"])),
          ("window", lambda r: num(r["sigma"], 3)),
          ("validation", lambda r: num(r["validation_log_likelihood"], 1)),
          ("test log-likelihood", _log_likelihood),
          ("seconds", lambda r: num(r["wall_time_s"])),
          ("cores", cores)],
    command=lambda r: reproduce(
        r, ["--run", "runs/parzen/" + os.path.basename(r["run"])]))

# ---------------------------------------------------------- maae_stability


def _steady(row: dict) -> str:
  steps = [s for s in row["steady"] if s is not None]
  if not steps:
    return "never"
  mean = sum(steps) / len(steps)
  sd = (sum((s - mean) ** 2 for s in steps) / len(steps)) ** 0.5  # As numpy.
  return f"{mean:.0f} +- {sd:.0f}"


MAAE = Table(
    name="maae_stability",
    title="Multi-adversarial AAE stability on MNIST",
    about=(
        "Steady-state step: the first logged step after which the standard "
        "deviation of the code discriminator's loss over the last 100 steps "
        "stays below the threshold; mean and standard deviation over the "
        "seeds (runs that never settle are counted apart). N = 1 is the AAE, "
        "N = 3 the MAAE. The loss curves: [maae_stability.png](maae_stability.png)."),
    group=lambda r: f"N = {r['ndisc']}",
    best=[("discriminators", lambda r: str(r["ndisc"])),
          ("steady-state step", _steady),
          ("settled", lambda r: f"{sum(s is not None for s in r['steady'])}/{len(r['steady'])}"),
          ("seeds", lambda r: ",".join(map(str, r["seeds"])))],
    runs=[("discriminators", lambda r: str(r["ndisc"])),
          ("seeds", lambda r: ",".join(map(str, r["seeds"]))),
          ("steady-state step", _steady),
          ("threshold", lambda r: f"{r['threshold']:g}"),
          ("seconds", lambda r: num(r["wall_time_s"])),
          ("cores", cores),
          ("flags", short_flags)],
    best_title="Latest per row")

# ------------------------------------------------------------ seed_systems


def _figures(row: dict) -> str:
  figures = row.get("figures") or []
  return ", ".join(f"[{os.path.basename(f)}]({f})" for f in figures[:2]) + (
      f" and {len(figures) - 2} more" if len(figures) > 2 else "")


SEED_SYSTEMS = Table(
    name="seed_systems",
    title="The TF1 seed's other systems on MNIST",
    about=(
        "Each system trains through the library's one loop on the first "
        "`--train_size` training images: seed 003's convolutional AAE "
        "(`conv`, and with the label at the decoder `conv_labels`), seed "
        "004's binary cross-entropy AAE (`bce`), and seed 000's AAE and "
        "multi-adversarial AAE (`aae2d`, `maae2d`, `maae_style`). Test "
        "reconstruction error: mean squared error per pixel on the [0, 1] "
        "scale from the posterior mean (so MSE and BCE systems compare). "
        "Figures are in `seed_systems/`."),
    group=lambda r: r["system"],
    score=lambda r: r["test_mse_unit_range"],
    best=[("system", lambda r: f"`{r['system']}` (seed {r['seed']})"),
          ("test reconstruction MSE", lambda r: num(r["test_mse_unit_range"], 4)),
          ("epochs", lambda r: str(r["epochs"])),
          ("figures", _figures)],
    runs=[("system", lambda r: f"`{r['system']}`"),
          ("epochs", lambda r: str(r["epochs"])),
          ("train images", lambda r: str(r["train_images"])),
          ("test reconstruction MSE", lambda r: num(r["test_mse_unit_range"], 4)),
          ("seconds", lambda r: num(r["wall_time_s"])),
          ("cores", cores),
          ("flags", short_flags)])

# -------------------------------------------------------------- throughput


def _ratio(row: dict, key: str) -> str:
  value = row.get(key)
  if not value:
    return ""
  return f"{value[0]:.2f} ({value[1]:.2f}-{value[2]:.2f})"


def _fraction(row: dict, key: str) -> str:
  value = row.get(key)
  return "" if value is None else f"{100 * value:.0f}%"


THROUGHPUT = Table(
    name="throughput",
    title="Training throughput",
    about=(
        "Images/s of each mode through the whole training loop (evaluation, "
        "summaries and checkpoints at their default cadence) and through the "
        "compiled step loop alone, over the epochs after the first. "
        "Reference: a plain per-step TensorFlow 2 script of the same model "
        "(`benchmarks/reference_steps.py`) timed in the same run, "
        "interleaved, so the ratios compare like with like (median and "
        "range). Fraction: images/s x the step's FLOPs per image (from XLA's "
        "optimised HLO) / the best float32 matmul rate measured in the same "
        "run; bound: the fraction the step would reach if every product ran "
        "at that rate and the only other work were the optimiser updates. "
        "Rows before the reference existed have no ratios; rows with a "
        "`method` note in the JSON used an older FLOP count."),
    group=lambda r: None if r.get("method") else r["mode"],
    best=[("mode", lambda r: r["mode"]),
          ("full loop images/s", lambda r: num(r["train_images_per_s"])),
          ("full loop / reference", lambda r: _ratio(r, "full_over_reference")),
          ("step loop / reference", lambda r: _ratio(r, "step_loop_over_reference")),
          ("fraction of matmul ceiling", lambda r: _fraction(r, "fraction")),
          ("bound", lambda r: _fraction(r, "bound_fraction")),
          ("cores", cores)],
    runs=[("mode", lambda r: r["mode"]),
          ("full loop images/s", lambda r: num(r["train_images_per_s"])),
          ("step loop images/s", lambda r: num(r.get("step_loop_images_per_s"))),
          ("full / reference", lambda r: _ratio(r, "full_over_reference")),
          ("step / reference", lambda r: _ratio(r, "step_loop_over_reference")),
          ("fraction", lambda r: _fraction(r, "fraction")),
          ("bound", lambda r: _fraction(r, "bound_fraction")),
          ("cores", cores),
          ("flags", short_flags)],
    best_title="Latest per mode")

# -------------------------------------------- diagnostics (their own tables)

EPOCH_COST = Table(
    name="epoch_cost",
    title="What a recipe's whole schedule costs here",
    about=(
        "`benchmarks/diagnostics/epoch_cost.py`: seconds per epoch of the "
        "compiled step loop alone on real MNIST batches (no evaluation, "
        "summaries or checkpoints), median of interleaved timings, and that "
        "times the recipe's `max_epoch`."),
    group=lambda r: f"{r['mode']}, {r['recipe']}",
    best=[("mode, recipe", lambda r: f"{r['mode']}, {r['recipe']}"),
          ("layers", lambda r: r["encoder_units"]),
          ("s per epoch", lambda r: num(sorted(r["epoch_seconds"])[len(r["epoch_seconds"]) // 2], 1)),
          ("epochs", lambda r: str(r["max_epoch"])),
          ("hours", lambda r: num(r["hours"], 1)),
          ("cores", cores)],
    runs=[("mode", lambda r: r["mode"]), ("recipe", lambda r: r["recipe"]),
          ("s per epoch", lambda r: ", ".join(f"{s:.1f}" for s in r["epoch_seconds"])),
          ("hours", lambda r: num(r["hours"], 1)),
          ("cores", cores), ("flags", short_flags)],
    best_title="Latest per row")


def _scaling_mode(row: dict) -> str:
  return row.get("mode", "unsupervised")  # Older rows: unsupervised only.


SCALING = Table(
    name="scaling",
    title="How cost grows with data and batch size",
    about=(
        "`benchmarks/diagnostics/scaling.py`: the unsupervised MLP AAE (2-D "
        "Gaussian, seed recipe) or the semi-supervised one (default recipe, "
        "`--mode semisupervised`), one fresh process per row: the time of "
        "the second epoch (the first includes compilation) and the process's "
        "peak resident memory. The best row per model and data size is its "
        "fastest batch size; batch sizes compare only within one command "
        "(one machine, one load)."),
    group=lambda r: f"{_scaling_mode(r)}, {r['images']} images, "
                    f"{r['command']}",
    score=lambda r: r["epoch_s"] / r["images"],
    best=[("model", _scaling_mode),
          ("train images", lambda r: str(r["images"])),
          ("batch", lambda r: str(r["batch"])),
          ("images/s", lambda r: num(r["images"] / r["epoch_s"])),
          ("peak MiB", lambda r: num(r["peak_mib"]))],
    runs=[("model", _scaling_mode),
          ("train images", lambda r: str(r["images"])),
          ("batch", lambda r: str(r["batch"])),
          ("epoch (s)", lambda r: num(r["epoch_s"], 1)),
          ("images/s", lambda r: num(r["images"] / r["epoch_s"])),
          ("peak MiB", lambda r: num(r["peak_mib"])),
          ("cores", cores)],
    best_title="Fastest batch per model, data size and command")


def _curve(row: dict) -> str:
  curve = row["validation_curve"]
  marks = [e for e in (1, 2, 5, 10, 20, 30, 40, 50) if e <= len(curve)]
  return ", ".join(f"{e}: {100 * curve[e - 1]:.1f}" for e in marks)


REFERENCE_CURVE = Table(
    name="reference_curve",
    title="The paper's semi-supervised recipe as a plain script",
    about=(
        "`benchmarks/diagnostics/reference_curve.py`: the recipe written "
        "plainly (no phases, trainer or pipeline of this package), on the "
        "same splits and labeled images as `classify_mnist.py --recipe "
        "paper` with the same `--seed`. Validation error (%) by epoch, and "
        "the last epoch's test error."),
    group=lambda r: f"{r['num_labeled']} labels, seed {r['seed']}",
    best=[("labels, seed", lambda r: f"{r['num_labeled']}, {r['seed']}"),
          ("epochs", lambda r: str(r["epochs"])),
          ("validation error by epoch", _curve),
          ("test error", lambda r: pct(r["test_error"]))],
    runs=[("labels", lambda r: str(r["num_labeled"])),
          ("seed", lambda r: str(r["seed"])),
          ("epochs", lambda r: str(r["epochs"])),
          ("validation error by epoch", _curve),
          ("test error", lambda r: pct(r["test_error"])),
          ("cores", cores)],
    best_title="Latest per row")

def _minutes(row: dict, threshold: str) -> str:
  reach = row["epochs_to"][threshold]
  if row["minutes_to"][threshold] is None:
    return f"not reached ({reach['reached']} of {reach['runs']} runs)"
  return (f"{row['minutes_to'][threshold]:.0f} (epoch "
          f"{reach['median_epoch']:g}; {reach['reached']} of "
          f"{reach['runs']} runs)")


_TIME_COLUMNS = [
    ("recipe", lambda r: r["recipe"]),
    ("s per epoch", lambda r: num(r["seconds_per_epoch"], 1)),
    ("error on", lambda r: r.get("split", "test")),
    *[(f"minutes to {t}%", lambda r, k=f"{t / 100:g}": _minutes(r, k))
      for t in (5, 3, 2)],
    ("cores", cores)]
TIME_TO_ACCURACY = Table(
    name="time_to_accuracy",
    title="Time to accuracy with 100 labels",
    about=(
        "`benchmarks/time_to_accuracy.py`: minutes of training until the "
        "validation error first reaches 5, 3 and 2% (the test error for "
        "recipes whose runs were recorded without their validation curve, "
        "and in every row before the column said): each recipe's seconds "
        "per epoch, measured side by side in one run (one steady epoch, "
        "validation included), times the median epoch at which its 100-label "
        "runs in `classify_mnist.json` got there (a run that never did "
        "counts as later than all the others)."),
    group=lambda r: r["recipe"],
    best=_TIME_COLUMNS,
    runs=_TIME_COLUMNS,
    best_title="Latest per recipe")

TABLES = {t.name: t for t in (CLASSIFY, CLUSTER, UNSUPERVISED, PARZEN, MAAE,
                              SEED_SYSTEMS, THROUGHPUT, EPOCH_COST, SCALING,
                              REFERENCE_CURVE, TIME_TO_ACCURACY)}

# ---------------------------------------------------------------- writing


def _line(cells: Sequence[str]) -> str:
  return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ")
                           for c in cells) + " |"


def _table(columns: Sequence[Column], rows: Sequence[dict]) -> List[str]:
  lines = [_line([c[0] for c in columns]),
           _line(["---"] * len(columns))]
  lines += [_line([c[1](row) for c in columns]) for row in rows]
  return lines


def reading(path: str) -> str:
  """The hand-written reading of an existing results/<name>.md."""
  if not os.path.exists(path):
    return ""
  with open(path) as f:
    text = f.read()
  start, end = text.find(READING_START), text.find(READING_END)
  if start < 0 or end < start:
    return ""
  return text[start + len(READING_START):end].strip("\n")


def best_rows(table: Table, rows: Sequence[dict]) -> List[dict]:
  """One row per group, in the order each group first appears."""
  groups = {}
  for row in rows:
    key = table.group(row)
    if key is not None:
      groups.setdefault(key, []).append(row)
  out = []
  for members in groups.values():
    pick = (members[-1] if table.score is None
            else min(members, key=table.score))
    out.append(dict(pick, _group_size=len(members)))
  return sorted(out, key=table.order) if table.order else out


def markdown(table: Table, rows: Sequence[dict], text: str = "") -> str:
  """The whole results/<name>.md for these rows (all of its JSON's) and
  this reading."""
  rows = [dict(r, _index=i) for i, r in enumerate(rows)]
  if table.json_name == "classify_mnist":
    first = next((r["_index"] for r in rows
                  if r["model"].startswith(_FIRST_RECIPE_ROW)), len(rows))
    # Grouped under today's names, their recorded tags kept in the JSON.
    rows = [dict(r, _first_recipe_row=first, model=todays_tag(r, r["_index"]))
            for r in rows]
    command = lambda r: classify_command(r, r["_index"])
  else:
    command = table.command or reproduce
    first = 0
  if table.select is not None:
    rows = [r for r in rows if table.select(r)]
  # The run table starts with the recipes; the JSON keeps the rest.
  listed = [r for r in rows if r["_index"] >= first]
  before = len(rows) - len(listed)
  earlier = (f" The {before} runs before recipes existed are in "
             f"`{table.json_name}.json`." if before else "")
  best = [*table.best, ("command", command)]
  parts = [f"# {table.title}", "", table.about, "",
           f"## {table.best_title}", "",
           *_table(best, best_rows(table, rows)), ""]
  for title, section in table.sections:
    parts += [f"## {title}", "", *section(rows), ""]
  parts += [READING_START, text or "(No reading yet.)", READING_END, "",
           "## Every run", "",
           ("One row per run, oldest first; `cores`: the CPU cores it had "
            "(\"shared\": other jobs ran beside it, so times are long). "
            "Flags omit local paths and `--resume` (and `--maxepoch` where "
            "an `epochs` column gives it)." + earlier +
            (" " + table.runs_note if table.runs_note else "")), "",
           *_table(table.runs, listed)]
  return "\n".join(parts) + "\n"


def read_rows(table: Table) -> List[dict]:
  """Every row of the JSON `table` is written from."""
  with open(os.path.join(RESULTS_DIR, f"{table.json_name}.json")) as f:
    return json.load(f)


def write(name: str) -> List[str]:
  """Rewrites every results/*.md written from results/<name>.json (a page
  of that name, or pages whose source it is); returns their paths."""
  paths = []
  for table in TABLES.values():
    if name not in (table.name, table.json_name):
      continue
    path = os.path.join(RESULTS_DIR, f"{table.name}.md")
    text = markdown(table, read_rows(table), reading(path))
    with open(path, "w") as f:
      f.write(text)
    paths.append(path)
  return paths


def main(argv: Sequence[str]) -> None:
  for name in argv or sorted({t.json_name for t in TABLES.values()}):
    for path in write(name):
      print(path)  # pylint: disable=print-function


if __name__ == "__main__":
  main(sys.argv[1:])
