"""Mutation testing of the explainers' and metrics' arithmetic modules with cosmic-ray (``make mutate``).

A developer tool, not part of ``make test``. For each module of ``MODULES`` it runs cosmic-ray
(``requirements-mutate.txt``) on a COPY of the package and its tests under ``build/mutate/work``
(the working tree is never mutated, so other work on it goes on), with a test command that runs only
the tests covering that module, stops at the first failure (``-x``) and is killed after
``--timeout`` seconds. Mutants are sampled (``--mutants`` per module, ``--seed``), and the whole run
stops starting new modules once ``--budget`` seconds are spent. The unmutated copy must pass the
module's tests first (the baseline), or the module is skipped.

Results: one line per module (killed / survived / incompetent / timed out), the overall score, and
every survivor with its operator and line, in ``build/mutate/report.json`` and on stdout. A
survivor is either an equivalent mutant (say why in the note) or a test to add.

Usage (from the repository root; the tool's Python needs cosmic-ray, the project's Python runs the tests)::

    python tools/mutate.py --python .venv/bin/python --mutants 12 --budget 2400 [--modules gradients,rise]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "mutate"

#: module -> the tests that cover it (only these run for its mutants).
MODULES = {
    "xai_tf/explainers/gradients.py": ["tests/test_method_oracles.py", "tests/test_explain_estimators.py -k grad"],
    "xai_tf/explainers/integrated.py": ["tests/test_method_oracles.py", "tests/test_explain_reference.py"],
    "xai_tf/explainers/shapley.py": ["tests/test_explain_estimators.py -k shap", "tests/test_seeding.py -k shap",
                                     "tests/test_method_oracles.py -k shap"],
    "xai_tf/explainers/rise.py": ["tests/test_method_oracles.py -k rise", "tests/test_explain_estimators.py -k rise"],
    "xai_tf/explainers/perturbation.py": ["tests/test_explain_reference.py -k occlusion",
                                          "tests/test_method_oracles.py -k lime"],
    "xai_tf/explainers/global_sensitivity.py": ["tests/test_explain_estimators.py -k 'sobol or hsic'"],
    "xai_tf/metrics/perturbation.py": ["tests/test_ties.py", "tests/test_metrics_fidelity.py",
                                       "tests/test_option_ranges.py -k baseline"],
    "xai_tf/metrics/faithfulness/pixel_flipping.py": ["tests/test_metrics_faithfulness.py",
                                       "tests/test_option_ranges.py -k 'faithfulness or pixel_flipping'"],
    "xai_tf/metrics/faithfulness/fidelity.py": ["tests/test_metrics_fidelity.py"],
    "xai_tf/metrics/localisation/relevance.py": ["tests/test_ties.py", "tests/test_metrics_localization.py"],
    "xai_tf/metrics/complexity/quantus_complexity.py": ["tests/test_metrics_maps.py",
                                                        "tests/test_metrics_sensitivity.py -k entropy"],
    "xai_tf/metrics/robustness/quantus_robustness.py": ["tests/test_metrics_method.py -k 'sensitivity or lipschitz'",
                                     "tests/test_seeding.py -k 'sensitivity or lipschitz'"],
}

#: Runs under the tool's Python (cosmic-ray installed): sample, then report, through its WorkDB.
SAMPLE = """
import random, sys
from cosmic_ray.work_db import use_db, WorkDB
from cosmic_ray.work_item import WorkResult, WorkerOutcome
path, keep, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with use_db(path, WorkDB.Mode.open) as db:
    ids = sorted(item.job_id for item in db.work_items)
    chosen = set(random.Random(seed).sample(ids, min(keep, len(ids))))
    db.set_multiple_results([i for i in ids if i not in chosen], WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    print(len(ids))
"""
REPORT = """
import json, sys
from cosmic_ray.work_db import use_db, WorkDB
rows = []
with use_db(sys.argv[1], WorkDB.Mode.open) as db:
    for item, result in db.completed_work_items:
        if result.worker_outcome == "skipped":
            continue
        spec = item.mutations[0]
        rows.append({"operator": spec.operator_name, "line": spec.start_pos[0], "occurrence": spec.occurrence,
                     "worker": getattr(result.worker_outcome, "value", None),
                     "test": getattr(result.test_outcome, "value", None), "diff": (result.diff or "")[-600:]})
print(json.dumps(rows))
"""


def copy_tree() -> Path:
    work = OUT / "work"
    if work.exists():
        shutil.rmtree(work)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_generated")
    for name in ("xai_tf", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    return work


def run_module(module: str, tests: list[str], args, work: Path, tool: str, deadline: float) -> dict:
    name = Path(module).stem + ("_m" if "/metrics/" in module else "_e")
    config, db = OUT / f"{name}.toml", OUT / f"{name}.sqlite"
    db.unlink(missing_ok=True)
    command = " && ".join(f"{args.python} -m pytest -x -q -p no:cacheprovider {test}" for test in tests)
    config.write_text(f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {args.timeout}\nexcluded-modules = []\n'
                      f'test-command = "{command.replace(chr(34), chr(92) + chr(34))}"\n\n'
                      f'[cosmic-ray.distributor]\nname = "local"\n')
    env = {**os.environ, "PYTHONPATH": str(work), "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    baseline = subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True, text=True)
    if baseline.returncode != 0:
        return {"module": module, "skipped": "the unmutated copy fails its tests", "tail": baseline.stdout[-800:]}
    subprocess.run([tool, "-m", "cosmic_ray.cli", "init", str(config), str(db)], cwd=work, env=env, check=True,
                   capture_output=True)
    total = int(subprocess.run([tool, "-c", SAMPLE, str(db), str(args.mutants), str(args.seed)], cwd=work,
                               env=env, check=True, capture_output=True, text=True).stdout.strip())
    try:
        subprocess.run([tool, "-m", "cosmic_ray.cli", "exec", str(config), str(db)], cwd=work, env=env,
                       capture_output=True, timeout=max(1.0, deadline - time.time()))
    except subprocess.TimeoutExpired:
        pass  # the budget is spent: report what finished
    rows = json.loads(subprocess.run([tool, "-c", REPORT, str(db)], cwd=work, env=env, check=True,
                                     capture_output=True, text=True).stdout)
    shutil.copy2(ROOT / module, work / module)  # an interrupted exec may leave a mutant behind
    counts = {outcome: sum(row["test"] == outcome for row in rows) for outcome in ("killed", "survived", "incompetent")}
    return {"module": module, "mutants": total, "sampled": args.mutants, "run": len(rows), **counts,
            "survivors": [row for row in rows if row["test"] == "survived"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"), help="Python that runs the tests")
    parser.add_argument("--tool-python", default=sys.executable, help="Python with cosmic-ray installed")
    parser.add_argument("--mutants", type=int, default=12, help="mutants sampled per module (default 12)")
    parser.add_argument("--budget", type=float, default=2400.0, help="seconds for the whole run (default 2400)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for one mutant's tests (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    parser.add_argument("--modules", default="", help="comma-separated module stems to run (default: all)")
    args = parser.parse_args(argv)
    wanted = {stem.strip() for stem in args.modules.split(",") if stem.strip()}
    OUT.mkdir(parents=True, exist_ok=True)
    work = copy_tree()
    deadline = time.time() + args.budget
    random.seed(args.seed)
    results = []
    for module, tests in MODULES.items():
        if wanted and Path(module).stem not in wanted:
            continue
        if time.time() >= deadline:
            results.append({"module": module, "skipped": "budget spent"})
            continue
        result = run_module(module, tests, args, work, args.tool_python, deadline)
        results.append(result)
        print(json.dumps({k: v for k, v in result.items() if k != "survivors"}), flush=True)
    killed = sum(r.get("killed", 0) + r.get("incompetent", 0) for r in results)
    survived = sum(r.get("survived", 0) for r in results)
    score = killed / (killed + survived) if killed + survived else float("nan")
    report = {"score": score, "killed": killed, "survived": survived, "modules": results}
    (OUT / "report.json").write_text(json.dumps(report, indent=1))
    print(f"mutation score {score:.1%}: {killed} killed (incompetent included), {survived} survived")
    for result in results:
        for row in result.get("survivors", []):
            print(f"  survived {result['module']}:{row['line']} {row['operator']} #{row['occurrence']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
