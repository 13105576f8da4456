#!/usr/bin/env python3
"""Scripted comparison of drctl's scheduler overhead against plain shell.

1. A chain of 200 `true` shell steps vs. a loop running the same shell
   invocation 200 times (goal: drctl <= 1.1x).
2. 100 independent `sleep 0.05` steps vs. `sleep 0.05 &` x100 + `wait`
   (goal: drctl <= 1.5x).

Runs the release binary with its state directory on tmpfs when there is one
(the journal fsyncs each step start and finish; the disk's sync latency is
measured separately by the durability note in the output).
Usage: scripts/bench_engine.py [--runs N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def median_seconds(command, runs, env=None, cwd=None):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def chain_runbook(n):
    lines = ["version: 1", "name: chain", "steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}")
        if i:
            lines.append(f"    needs: [s{i - 1}]")
        lines.append("    shell: { run: 'true' }")
    return "\n".join(lines) + "\n"


def fan_runbook(n):
    lines = ["version: 1", "name: fan", "steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}")
        lines.append("    shell: { run: 'sleep 0.05' }")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], check=True, cwd=ROOT)
    drctl = os.path.join(ROOT, "target", "release", "drctl")
    tmp_root = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=tmp_root) as work:
        with open(os.path.join(work, "chain.yaml"), "w") as f:
            f.write(chain_runbook(200))
        with open(os.path.join(work, "fan.yaml"), "w") as f:
            f.write(fan_runbook(100))
        env = dict(os.environ, CI="true", NO_COLOR="1")
        results = []

        plain_chain = median_seconds(
            ["bash", "-c", "for i in $(seq 200); do bash -euo pipefail -c true; done"], args.runs)
        drctl_chain = median_seconds(
            [drctl, "-q", "--state-dir", os.path.join(work, "state"), "run", "./chain.yaml"],
            args.runs, env=env, cwd=work)
        results.append(("chain of 200 `true` steps", plain_chain, drctl_chain, 1.1))

        plain_fan = median_seconds(
            ["bash", "-c", "for i in $(seq 100); do sleep 0.05 & done; wait"], args.runs)
        drctl_fan = median_seconds(
            [drctl, "-q", "--state-dir", os.path.join(work, "state"), "run", "--concurrency", "100", "./fan.yaml"],
            args.runs, env=env, cwd=work)
        results.append(("100 parallel `sleep 0.05` steps", plain_fan, drctl_fan, 1.5))

        # Each step runs in a shell (bash by default), which `sleep 0.05 &` does not
        # pay: the same invocation in plain shell, and drctl with `sh -c`, show where the time goes.
        with open(os.path.join(work, "fan-sh.yaml"), "w") as f:
            f.write(fan_runbook(100).replace("steps:", 'defaults: { shell: "sh -c" }\nsteps:', 1))
        plain_fan_bash = median_seconds(
            ["bash", "-c", "for i in $(seq 100); do bash -euo pipefail -c 'sleep 0.05' & done; wait"], args.runs)
        drctl_fan_sh = median_seconds(
            [drctl, "-q", "--state-dir", os.path.join(work, "state"), "run", "--concurrency", "100", "./fan-sh.yaml"],
            args.runs, env=env, cwd=work)

        disk_state = tempfile.mkdtemp(dir=ROOT, prefix=".bench-state-")
        try:
            drctl_chain_disk = median_seconds(
                [drctl, "-q", "--state-dir", disk_state, "run", "./chain.yaml"], args.runs, env=env, cwd=work)
        finally:
            subprocess.run(["rm", "-rf", disk_state], check=False)

    print(f"median of {args.runs} runs each (state dir on {'tmpfs' if tmp_root else 'disk'})")
    failed = False
    for name, plain, ours, goal in results:
        ratio = ours / plain
        verdict = "ok" if ratio <= goal else "OVER GOAL"
        failed |= ratio > goal
        print(f"  {name:35} shell {plain * 1000:8.1f} ms   drctl {ours * 1000:8.1f} ms   {ratio:5.2f}x (goal <= {goal}x) {verdict}")
    print(f"  fan against the same invocation in plain shell (`bash -euo pipefail -c 'sleep 0.05' &` x100): "
          f"shell {plain_fan_bash * 1000:.1f} ms, drctl {drctl_fan:.3f}s -> {drctl_fan / plain_fan_bash:.2f}x")
    print(f"  fan with `shell: sh -c`: drctl {drctl_fan_sh * 1000:.1f} ms -> {drctl_fan_sh / plain_fan:.2f}x of `sleep 0.05 &` x100")
    print(f"  chain with the state dir on the project's disk: {drctl_chain_disk * 1000:.1f} ms "
          f"({drctl_chain_disk / results[0][1]:.2f}x; each step start and finish is fsynced)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
