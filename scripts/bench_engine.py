#!/usr/bin/env python3
"""drctl against its yardsticks, each pair measured side by side in one run
(the two commands alternate, so machine load hits both alike). The rows of
issue 14 and docs/performance.md:

1. `validate` of a generated 1000-step chain (58 KB) vs `just --list` of a
   1000-recipe justfile (goal: <= 10 ms and below just). just comes from
   PATH, else from PyPI's `rust-just` in a throwaway venv; without either
   the row says so and has no ratio.
2. benches/load_check (400 KB runbook, criterion): the whole load and check
   vs the YAML parser's bare events (goal: <= 10 ms).
3. `run` of a 1000-step `true` chain, state dir on disk, vs the same
   `bash -euo pipefail -c true` x1000 loop (goal: <= 1.1x).
4. the same chain with the state dir on tmpfs, vs the same loop.
5. 100 parallel `sleep 0.05` steps, `--concurrency 100`, vs `sleep 0.05 &`
   x100 + `wait` (goal: <= 1.5x).
6. The floors under rows 3 and 5, without drctl: the chain's loop with a
   journal-sized append and `fdatasync` on disk after each step (a step
   starts only once the one before it is durable), and the fan's
   yardstick with each `sleep` run through bash, as each step's script is,
   and with a supervisor process started before each (every running step
   has its own).
Plus drctl's peak memory on the chain (goal: <= 15 MiB), through /usr/bin/time.

`--scale` adds chains and fans of 1,000 to 10,000 steps and `log`, `report`
and `resume` of their incidents: time and peak memory, to show growth.

Usage: scripts/bench_engine.py [--runs N] [--binary PATH] [--no-bench] [--scale]
(builds the release binary and the bench first unless --binary is given).
"""
import argparse
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, CI="true", NO_COLOR="1")


# A child's peak RSS (`ru_maxrss`) starts at its parent's resident size,
# which exec carries over: measured from this script, every command would
# peak at 14 MiB or more, the script's own. `/usr/bin/time` forks the
# command from a process of 2 MiB and reports the command's own peak.
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed(command, cwd=None, peak=False):
    """Wall seconds of one run of `command`; with `peak`, its peak RSS (KiB,
    None without /usr/bin/time), measured through /usr/bin/time."""
    peak_file = None
    if peak and TIME:
        peak_file = tempfile.NamedTemporaryFile("r", prefix="drctl-bench-peak-")
        command = [TIME, "-f", "%M", "-o", peak_file.name, *command]
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, _ = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{command} failed with {code}")
    if peak_file is None:
        return elapsed, None
    with peak_file:
        return elapsed, int(peak_file.read().split()[-1])


def side_by_side(ours, theirs, runs, cwd=None, before=None, peak=False):
    """Medians of `ours` and `theirs`, run alternately; with `peak`, our
    largest peak RSS (KiB; None without /usr/bin/time)."""
    mine, yard, peaks = [], [], []
    for _ in range(runs):
        if before:
            before()
        seconds, rss = timed(ours, cwd, peak)
        mine.append(seconds)
        peaks.append(rss)
        if theirs:
            yard.append(timed(theirs, cwd)[0])
    largest = max(peaks) if peak and None not in peaks else None
    return statistics.median(mine), statistics.median(yard) if yard else None, largest


def mib(kib):
    return f"{kib / 1024:.1f} MiB" if kib is not None else "- (no /usr/bin/time)"


# The chain's floor on disk: 1000 x `bash -euo pipefail -c true`, each
# followed (argument `sync`) by a journal-sized append and an `fdatasync`
# in the directory given, or (`no-sync`) by nothing.
SYNCED_LOOP = """
import os, sys
bash = next(os.path.join(d, "bash") for d in os.environ["PATH"].split(":")
            if os.access(os.path.join(d, "bash"), os.X_OK))
journal = os.open(os.path.join(sys.argv[1], "journal"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
record = b"x" * 591 + b"\\n"
for _ in range(1000):
    os.waitpid(os.posix_spawn(bash, [bash, "-euo", "pipefail", "-c", "true"], os.environ), 0)
    if sys.argv[2] == "sync":
        os.write(journal, record)
        os.fdatasync(journal)
"""


def on_disk():
    """A state directory on the checkout's disk (the work dir is on tmpfs)."""
    return tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench-state-", ignore_cleanup_errors=True)


def chain(n):
    lines = ["version: 1", "name: chain", "steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}")
        if i:
            lines.append(f"    needs: [s{i - 1}]")
        lines.append("    shell: { run: 'true' }")
    return "\n".join(lines) + "\n"


def fan(n, command):
    lines = ["version: 1", "name: fan", "steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}")
        lines.append(f"    shell: {{ run: '{command}' }}")
    return "\n".join(lines) + "\n"


def justfile(n):
    return "\n".join(f"s{i}:{f' s{i - 1}' if i else ''}\n\ttrue\n" for i in range(n))


def find_just(work):
    """`just` from PATH, else from PyPI into a throwaway venv; (path, note)."""
    found = shutil.which("just")
    if found:
        return found, "from PATH"
    venv = os.path.join(work, "just-venv")
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "rust-just"],
                       check=True, timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        return None, f"not installed and PyPI's rust-just could not be installed ({e})"
    return os.path.join(venv, "bin", "just"), "PyPI rust-just in a throwaway venv"


def criterion_ms(output, name):
    """The median (middle) estimate of a criterion benchmark, in ms."""
    match = re.search(rf"load_check/{name}\s+time:\s+\[\S+ \S+ (\S+) (\S+)", output)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    return value * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def load_check_row():
    """Runs benches/load_check (both benchmarks in one process)."""
    run = subprocess.run(
        ["nice", "cargo", "bench", "--locked", "--bench", "load_check", "--",
         "--warm-up-time", "1", "--measurement-time", "3", "1000_steps|parser_events_only"],
        cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        return None, None, run.stderr[-500:]
    return criterion_ms(run.stdout, "1000_steps"), criterion_ms(run.stdout, "parser_events_only"), None


def row(name, ours, theirs, yardstick, goal):
    ratio = f"{ours / theirs:5.2f}x" if theirs else "   - "
    theirs_text = f"{theirs * 1000:8.1f} ms" if theirs else "       -   "
    print(f"| {name} | {ours * 1000:8.1f} ms | {yardstick} {theirs_text} | {ratio} | {goal} |")


def scale(drctl, work, runs):
    print("\n| steps | chain run | chain peak | fan run | fan peak | log | report | resume | log peak |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (1000, 3000, 10000):
        state = os.path.join(work, f"scale-{n}")
        for kind, text in (("chain", chain(n)), ("fan", fan(n, "true"))):
            with open(os.path.join(work, f"{kind}{n}.yaml"), "w") as f:
                f.write(text)
        results = {}
        for kind in ("chain", "fan"):
            results[kind] = side_by_side(
                [drctl, "-q", "--state-dir", state, "run", "--concurrency", "100", f"./{kind}{n}.yaml"],
                None, 1, cwd=work, peak=True)[0::2]
        incident = sorted(os.listdir(os.path.join(state, "incidents")))[0]
        for command in ("log", "report", "resume"):
            results[command] = side_by_side(
                [drctl, "-q", "--state-dir", state, command, incident], None, runs, cwd=work,
                peak=command == "log")[0::2]
        print(f"| {n} | {results['chain'][0]:.2f} s | {mib(results['chain'][1])} "
              f"| {results['fan'][0]:.2f} s | {mib(results['fan'][1])} "
              f"| {results['log'][0] * 1000:.0f} ms | {results['report'][0] * 1000:.0f} ms "
              f"| {results['resume'][0] * 1000:.0f} ms | {mib(results['log'][1])} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--binary", help="a drctl release binary (default: build one)")
    parser.add_argument("--no-bench", action="store_true", help="skip benches/load_check")
    parser.add_argument("--scale", action="store_true", help="also the 1,000-10,000 step growth table")
    args = parser.parse_args()
    drctl = args.binary
    if not drctl:
        subprocess.run(["nice", "cargo", "build", "--release", "--locked", "--quiet"], check=True, cwd=ROOT)
        drctl = os.path.join(ROOT, "target", "release", "drctl")
    drctl = os.path.abspath(drctl)
    tmpfs = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=tmpfs) as work:
        with open(os.path.join(work, "chain.yaml"), "w") as f:
            f.write(chain(1000))
        with open(os.path.join(work, "fan.yaml"), "w") as f:
            f.write(fan(100, "sleep 0.05"))
        with open(os.path.join(work, "justfile"), "w") as f:
            f.write(justfile(1000))
        just, just_note = find_just(work)
        supervisor_path = os.path.join(os.path.dirname(drctl), "drctl-supervise")
        supervisor_path = supervisor_path if os.access(supervisor_path, os.X_OK) else None
        supervisor = supervisor_path or "`drctl __supervise` (no drctl-supervise beside it)"
        print(f"medians of {args.runs} alternating runs; drctl {drctl}; supervisor {supervisor}; just {just_note}")
        print("load average at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print("\n| work | drctl | yardstick | ratio | goal |")
        print("|---|---:|---:|---:|---|")

        ours, theirs, _ = side_by_side(
            [drctl, "-q", "validate", "chain.yaml"], [just, "--list"] if just else None,
            args.runs * 3, cwd=work)
        row("`validate` of a 1000-step chain (58 KB)", ours, theirs,
            "`just --list`, 1000 recipes" if just else "just: unavailable", "<= 10 ms, below just")

        if not args.no_bench:
            full, events, error = load_check_row()
            if full is None:
                print(f"| benches/load_check | failed: {error} | | | |")
            else:
                row("benches/load_check (400 KB)", full / 1000, events / 1000,
                    "parser's bare events", "<= 10 ms")

        loop = ["bash", "-c", "for i in $(seq 1000); do bash -euo pipefail -c true; done"]
        with on_disk() as disk:
            ours, theirs, peak = side_by_side(
                [drctl, "-q", "--state-dir", disk, "run", "./chain.yaml"], loop, args.runs, cwd=work,
                peak=True)
        row("`run` of a 1000-step `true` chain, state on disk", ours, theirs,
            "`bash -c true` x1000", "<= 1.1x")
        chain_peak = peak

        shm = os.path.join(work, "state")
        ours, theirs, peak = side_by_side(
            [drctl, "-q", "--state-dir", shm, "run", "./chain.yaml"], loop, args.runs, cwd=work,
            peak=True)
        row("the same chain, state on tmpfs", ours, theirs, "`bash -c true` x1000", "")
        chain_peak = None if None in (chain_peak, peak) else max(chain_peak, peak)

        ours, theirs, _ = side_by_side(
            [drctl, "-q", "--state-dir", shm, "run", "--concurrency", "100", "./fan.yaml"],
            ["bash", "-c", "for i in $(seq 100); do sleep 0.05 & done; wait"], args.runs, cwd=work)
        row("100 parallel `sleep 0.05`, `--concurrency 100`", ours, theirs,
            "`sleep 0.05 &` x100 + `wait`", "<= 1.5x")

        # The floors: what the yardsticks cost with what drctl cannot do
        # without, and no drctl at all. A chain's step starts only once the
        # previous step's end is durable, so each step waits for one
        # `fdatasync` of the journal on the state dir's disk (group commit
        # makes it one); and each step runs its script through
        # `bash -euo pipefail -c` (the fan's yardstick has no bash).
        with on_disk() as disk:
            floor, theirs, _ = side_by_side(
                [sys.executable, "-c", SYNCED_LOOP, disk, "sync"],
                [sys.executable, "-c", SYNCED_LOOP, disk, "no-sync"], args.runs, cwd=work)
        row("floor: the loop with an append and `fdatasync` on disk per step", floor, theirs,
            "the same loop without them", "")
        floor, theirs, _ = side_by_side(
            ["bash", "-c", "for i in $(seq 100); do bash -euo pipefail -c 'sleep 0.05' & done; wait"],
            ["bash", "-c", "for i in $(seq 100); do sleep 0.05 & done; wait"], args.runs, cwd=work)
        row("floor: 100 `bash -euo pipefail -c 'sleep 0.05' &` + `wait`", floor, theirs,
            "`sleep 0.05 &` x100 + `wait`", "")
        # And the start of a supervisor per step: each running step has one
        # of its own (a hundred at once here), so that its whole process tree
        # can be stopped. Started by hand it only says so and exits: what is
        # timed is the process start, none of its work. Without
        # drctl-supervise, drctl starts `drctl __supervise`, whose start
        # `drctl --version` stands for.
        start = (f"{shlex.quote(supervisor_path)} 2>/dev/null" if supervisor_path
                 else f"{shlex.quote(drctl)} --version >/dev/null")
        floor, theirs, _ = side_by_side(
            ["bash", "-c", f"for i in $(seq 100); do {{ {start}; exec bash -euo pipefail -c 'sleep 0.05'; }} & done; wait"],
            ["bash", "-c", "for i in $(seq 100); do sleep 0.05 & done; wait"], args.runs, cwd=work)
        row("floor: the same, each also starting a supervisor first", floor, theirs,
            "`sleep 0.05 &` x100 + `wait`", "")
        print(f"\npeak memory of drctl running the 1000-step chain: {mib(chain_peak)} (goal <= 15 MiB)")

        if args.scale:
            scale(drctl, work, max(1, args.runs // 3))
        print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
