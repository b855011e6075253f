"""`make bench`: every workload in every available variant, each in its own process,
variants alternated within a round, the median of several rounds; a table of µs/step and
ratios, checked against the project's targets, written to benchmarks/results.md and
benchmarks/results.json.

    python -m benchmarks [--rounds 5] [--only mnist-15 regression ...]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKLOADS = {   # workload -> the variants it runs in
    "mnist-15": ["autodiff", "compiled", "numpy", "torch"],
    "mnist-128": ["autodiff", "compiled", "numpy", "torch"],
    "mnist-1024": ["autodiff", "compiled", "numpy", "torch"],
    "cnn-64": ["autodiff", "compiled", "numpy", "torch"],
    "regression": ["autodiff", "compiled", "numpy", "torch", "micrograd"],
    "xor": ["autodiff", "compiled", "numpy", "torch"],
    "chain": ["autodiff"],
    "memory": ["autodiff"],
}

# (workload, our variant, the other variant, bound): time(slower) / time(faster) against
# bound. A positive bound b means ours ≤ b × other; a negative one, other ≥ |b| × ours.
# "autodiff" is the eager engine, "compiled" its training step under ad.compile.
TARGETS = [
    ("mnist-15", "autodiff", "numpy", 1.3),
    ("mnist-15", "autodiff", "torch", -2.5),
    ("mnist-128", "autodiff", "numpy", 1.15),
    ("mnist-1024", "autodiff", "numpy", 1.05),
    ("cnn-64", "autodiff", "numpy", 1.2),
    ("regression", "autodiff", "torch", -4.0),
    ("regression", "autodiff", "micrograd", -2.0),
    ("mnist-15", "compiled", "numpy", 1.05),
    ("mnist-15", "compiled", "torch", -3.0),
    ("mnist-128", "compiled", "numpy", 1.03),
    ("mnist-1024", "compiled", "numpy", 1.02),
    ("regression", "compiled", "numpy", 1.5),
    ("regression", "compiled", "micrograd", -2.0),
    ("regression", "compiled", "torch", -10.0),
    ("xor", "compiled", "torch", -5.0),
]
TRACING_BOUND = 3.0     # the compiled first call (the trace) ≤ this × eager's first step,
TRACING_FLOOR_US = 20_000       # or ≤ this, whichever is larger


def available(variant: str) -> bool:
    return variant in ("autodiff", "compiled", "numpy") or \
        importlib.util.find_spec(variant) is not None


def run_one(workload: str, variant: str, seed: int) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-m", "benchmarks.workloads", workload, variant,
                             "--seed", str(seed)], capture_output=True, text=True,
                            cwd=HERE.parent, env=os.environ.copy(), check=False)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark {workload}/{variant} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numpy
    versions = f"Python {platform.python_version()}, numpy {numpy.__version__}"
    if importlib.util.find_spec("torch"):
        import torch
        versions += f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
    return f"{os.cpu_count()} CPUs ({cpu}), {versions}"


def median_results(workloads: list[str], rounds: int, seed: int
                   ) -> dict[str, dict[str, dict]]:
    """Each variant's run with the median time over `rounds` rounds (variants alternate
    within a round, their order reversed every other round)."""
    runs: dict[str, dict[str, list[dict]]] = {w: {} for w in workloads}
    for round_number in range(rounds):
        for workload in workloads:
            variants = [v for v in WORKLOADS[workload] if available(v)]
            if round_number % 2:
                variants.reverse()
            for variant in variants:
                started = time.perf_counter()
                result = run_one(workload, variant, seed)
                key = "us_per_step" if "us_per_step" in result else next(iter(result))
                runs[workload].setdefault(variant, []).append(result)
                print(f"  round {round_number + 1}: {workload:<11} {variant:<9} "
                      f"{result[key]:10.1f} ({time.perf_counter() - started:.0f} s)", flush=True)
    return {workload: {variant: _median(results) for variant, results in variants.items()}
            for workload, variants in runs.items()}


def _median(results: list[dict]) -> dict:
    key = "us_per_step" if "us_per_step" in results[0] else next(iter(results[0]))
    return sorted(results, key=lambda result: result[key])[(len(results) - 1) // 2]


def table(measured: dict[str, dict[str, dict]]) -> str:
    lines = ["| workload | variant | µs/step | × autodiff | accuracy |",
             "|---|---|---:|---:|---:|"]
    for workload, results in measured.items():
        if workload in ("chain", "memory"):
            continue
        ours = results.get("autodiff", {}).get("us_per_step")
        for variant, result in results.items():
            ratio = f"{result['us_per_step'] / ours:.2f}" if ours else "–"
            accuracy = f"{result['accuracy']:.4f}" if "accuracy" in result else ""
            lines.append(f"| {workload} | {variant} | {result['us_per_step']:.1f} | {ratio} | "
                         f"{accuracy} |")
    if "chain" in measured:
        c = measured["chain"]["autodiff"]
        lines.append(f"\n1,000,000-op scalar chain: build {c['build_us_per_op']:.2f} µs/op, "
                     f"backward {c['backward_us_per_op']:.2f} µs/op, total "
                     f"{c['us_per_op']:.2f} µs/op, peak memory +{c['peak_mb']:.0f} MB.")
    if "memory" in measured:
        m = measured["memory"]["autodiff"]
        lines.append(f"\nMemory over 10,000 regression steps: {m['rss_mb_at_1000']:.1f} MB at "
                     f"step 1,000, growth to step 10,000: {m['growth_mb']:+.2f} MB.")
    return "\n".join(lines)


def workload_output(workload: str, variant: str, seed: int, option: str) -> str:
    """What `python -m benchmarks.workloads WORKLOAD VARIANT --OPTION` prints."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.workloads", workload, variant,
                             "--seed", str(seed), option], capture_output=True, text=True,
                            cwd=HERE.parent, env=os.environ.copy(), check=True)
    return result.stdout.rstrip()


def where_the_time_goes(workload: str, variant: str, seed: int) -> str:
    """For a workload with a target not met: the eager engine's phases beside numpy by
    hand, and the cProfile of the variant's training steps."""
    text = f"\n## Where the time goes: {workload}, {variant}\n\n"
    if variant == "autodiff" and (workload.startswith(("mnist-", "cnn-"))
                                  or workload == "regression"):
        text += f"```\n{workload_output(workload, variant, seed, '--phases')}\n```\n\n"
    return text + (f"cProfile of the {variant} training steps, by own time:\n\n"
                   f"```\n{workload_output(workload, variant, seed, '--profile')}\n```\n")


def target_report(measured: dict[str, dict[str, dict]]) -> tuple[str, list[str]]:
    """The targets, met or not, and the workloads whose targets were not met."""
    lines, missed = [], []
    for workload, mine, other, bound in TARGETS:
        results = measured.get(workload, {})
        if mine not in results or other not in results:
            lines.append(f"- {workload}: {mine} or {other} not measured (not installed or "
                         f"not run)")
            continue
        ours, theirs = results[mine]["us_per_step"], results[other]["us_per_step"]
        if bound > 0:
            ratio, met = ours / theirs, ours / theirs <= bound
            wanted = f"{mine} ≤ {bound}× {other}"
            got = f"{mine} = {ratio:.2f}× {other}"
            allowed = bound * theirs
        else:
            ratio, met = theirs / ours, theirs / ours >= -bound
            wanted = f"{other} ≥ {-bound}× slower than {mine}"
            got = f"{other} = {ratio:.2f}× {mine}"
            allowed = theirs / -bound
        verdict = "met" if met else (f"NOT met (needs {mine} ≤ {allowed:.0f} µs/step: "
                                     f"{ours - allowed:.0f} µs or {1 - allowed / ours:.1%} less)")
        lines.append(f"- {workload}: {wanted}: {got}: {verdict}")
        if not met and (workload, mine) not in missed:
            missed.append((workload, mine))
    for workload, results in measured.items():
        if "compiled" in results and "autodiff" in results:
            first, eager = results["compiled"], results["autodiff"]
            cold = first["first_step_us"] / eager["first_step_us"]
            met = cold <= TRACING_BOUND or first["first_step_us"] <= TRACING_FLOOR_US
            lines.append(f"- {workload}: compiled first call (the trace) ≤ {TRACING_BOUND}× "
                         f"eager's first step or ≤ {TRACING_FLOOR_US / 1000:.0f} ms: "
                         f"{cold:.2f}×, {first['first_step_us'] / 1000:.1f} ms: "
                         f"{'met' if met else 'NOT met'} "
                         f"({first['first_step_us'] / eager['us_per_step']:.2f}× a warm "
                         f"eager step)")
    if "memory" in measured:
        growth = measured["memory"]["autodiff"]["growth_mb"]
        lines.append(f"- memory: no growth over 10,000 steps: "
                     f"{'met' if growth < 1.0 else 'NOT met'} ({growth:+.2f} MB)")
    return "\n".join(lines), missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), default=None)
    args = parser.parse_args()
    workloads = args.only or list(WORKLOADS)
    print(f"Benchmarking on {machine()}; median of {args.rounds} rounds", flush=True)
    measured = median_results(workloads, args.rounds, args.seed)
    targets, missed = target_report(measured)
    profiles = "".join(where_the_time_goes(workload, variant, args.seed)
                       for workload, variant in missed)
    report = (f"# Benchmark results\n\nMeasured by `make bench` on {machine()}, "
              f"{time.strftime('%Y-%m-%d')}; median of {args.rounds} rounds, each variant in its "
              f"own process.\n\n{table(measured)}\n\nTargets:\n{targets}\n{profiles}")
    print("\n" + report)
    (HERE / "results.md").write_text(report, encoding="utf-8")
    (HERE / "results.json").write_text(json.dumps(measured, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
