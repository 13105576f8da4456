#!/usr/bin/env python3
"""Writes link/drctl.symbol-order: the functions drctl runs, hottest first.

build.rs hands that file to the linker (lld's `--symbol-ordering-file`) for
the release build, so the code a run executes sits together at the start of
`.text` instead of being spread over its 10 MB. The kernel maps a binary's
cached pages around each one a process touches (fault-around), so where the
hot code is spread, most of the binary ends up resident: a 1000-step run
peaked at 13.0-13.3 MiB without the file and at 9.3-9.9 MiB with it
(docs/performance.md, "Memory").

The names carry hashes that change with the Rust toolchain, a dependency's
version and `[profile.release]`, and the module path of each function, so
regenerate the file after changing any of them or moving code between
modules (build.rs warns when the file was made with another rustc or
Cargo.lock). A stale or
missing name costs nothing but its place: the linker puts it where it would
have gone anyway.

    scripts/symbol_order.py            # build, profile, write the file
    scripts/symbol_order.py --check    # how many of its names the build has

Needs valgrind (`apt-get install valgrind`): callgrind lists every function
that ran, which sampling would not.
"""

import argparse
import collections
import glob
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER = os.path.join(ROOT, "link", "drctl.symbol-order")
BINARY = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "drctl")

HEADER = """\
# drctl's hot functions, hottest first, laid out together at the start of
# the release binary's code (build.rs, lld's --symbol-ordering-file).
# Made by scripts/symbol_order.py; regenerate after a toolchain or
# dependency upgrade or a change of [profile.release]. build.rs reads the
# two lines below.
"""


def fingerprints():
    """The toolchain and lock file the names belong to, as build.rs computes them."""
    rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(ROOT, "Cargo.lock"), "rb") as f:
        lock = fnv1a64(f.read())
    return f"# rustc: {rustc}\n# Cargo.lock: fnv1a64 {lock:016x}\n"


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def build():
    """The release build itself: any other profile would name the functions otherwise."""
    subprocess.run(["cargo", "build", "--release", "--locked", "--bins"], cwd=ROOT, check=True)


def chain(n):
    lines = ["version: 1", "name: chain", "steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}")
        if i:
            lines.append(f"    needs: [s{i - 1}]")
        lines.append("    shell: { run: 'true' }")
    return "\n".join(lines) + "\n"


def fan(n):
    lines = ["version: 1", "name: fan", "steps:"]
    for i in range(n):
        lines += [f"  - id: s{i}", "    shell: { run: 'true' }"]
    return "\n".join(lines) + "\n"


BROKEN = """\
version: 1
name: broken
steps:
  - id: a
    shell: { run: "echo {{ inputs.nope }}" }
    needs: [zz]
"""


def workloads(work):
    """The commands profiled: what an operator, a drill and CI run most."""
    for name, text in [("chain.yaml", chain(200)), ("short.yaml", chain(20)),
                       ("fan.yaml", fan(20)), ("broken.yaml", BROKEN)]:
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    shipped = sorted(glob.glob(os.path.join(ROOT, "runbooks", "*.yaml")))
    state_dir = os.path.join(work, "state")
    state = ["-q", "--state-dir", state_dir]
    yield ["--version"]
    yield ["validate", "chain.yaml"]
    yield ["validate", *shipped]
    yield ["validate", "broken.yaml"]
    yield ["show", shipped[0]]
    yield ["graph", shipped[0]]
    yield [*state, "run", os.path.join(ROOT, "runbooks", "db-restore.yaml"), "--dry-run",
           "--set", "app_url=http://127.0.0.1:9", "--set", "admin_token=drill-token",
           "--set", "primary_url=postgres://127.0.0.1:9/app", "--set", "backup_file=/tmp/backup.dump"]
    yield [*state, "run", "short.yaml", "--yes"]
    yield [*state, "run", "fan.yaml", "--concurrency", "20", "--yes"]
    yield [*state, "incidents"]
    # The short chain's incident, the first one run.
    incident = sorted(os.listdir(os.path.join(state_dir, "incidents")))[0]
    for command in ("log", "report", "resume"):
        yield [*state, command, incident, *(["--yes"] if command == "resume" else [])]


def profile(work):
    """Self cost of each function of drctl's binary, summed over the workloads."""
    cost = collections.Counter()
    for i, args in enumerate(workloads(work)):
        out = os.path.join(work, f"callgrind.{i}")
        subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", "--dump-instr=no",
                        "--compress-strings=no", "--compress-pos=no", f"--callgrind-out-file={out}",
                        BINARY, *args], cwd=work, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        cost.update(functions(out))
    return cost


def functions(path):
    """{function: self instructions} of the functions in drctl's binary."""
    found = collections.Counter()
    obj = function = None
    mine = False
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                obj = line[3:].strip()
            elif line.startswith("fn="):
                # `NAME'2` is a recursive call of NAME; `0x…` and `(below
                # main)` are code without a symbol.
                function = line[3:].strip().split("'")[0]
                mine = obj == BINARY and not function.startswith(("0x", "("))
                if mine:
                    found[function] += 0
            elif mine and line[:1].isdigit():
                fields = line.split()
                if len(fields) >= 2:
                    found[function] += int(fields[1])
    return found


def check():
    """How many of the file's names the release build has."""
    wanted = [l.strip() for l in open(ORDER) if l.strip() and not l.startswith("#")]
    symbols = subprocess.run(["nm", BINARY], capture_output=True, text=True, check=True).stdout
    have = {line.split()[-1] for line in symbols.splitlines() if line.strip()}
    found = sum(name in have for name in wanted)
    print(f"{found} of {len(wanted)} names in {ORDER} are in {BINARY}")
    print(f"made for:\n{''.join(l for l in open(ORDER) if l.startswith('# rustc') or l.startswith('# Cargo'))}"
          f"this tree:\n{fingerprints()}", end="")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="count the names the build has; write nothing")
    args = parser.parse_args()
    build()
    if args.check:
        check()
        return
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as work:
        cost = profile(work)
    if not cost:
        sys.exit("callgrind recorded no function of drctl: is valgrind installed?")
    names = sorted(cost, key=lambda name: (-cost[name], name))
    os.makedirs(os.path.dirname(ORDER), exist_ok=True)
    with open(ORDER, "w") as f:
        f.write(HEADER + fingerprints() + "\n".join(names) + "\n")
    print(f"{len(names)} functions written to {ORDER}")


if __name__ == "__main__":
    main()
