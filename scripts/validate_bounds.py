#!/usr/bin/env python3
"""`drctl validate` on the worst files under the 1 MiB limit: each must finish
within 2 s and 200 MiB peak memory (the goal in docs/runbook-format.md).

Shapes: long lines full of templates (manual text, HTTP URL, shell script,
unknown names), thousands of bad steps, a 5,000-step `needs` chain, a
9,000-step fan-in, 3,000 steps each needing the 30 before, 60,000 unknown
keys, an 80,000-operator expression, a 100,000-character line with a problem
in the middle, 10,000 steps, a file that is not UTF-8, alias and merge-key
bombs, deep flow nesting, 200,000 choices, 20,000 inputs, many documents,
a 10,000-step cycle, a needs list of 150,000, templates in SQL, a 1 MiB
scalar, BOM + CRLF + NUL, and a cut multibyte sequence.

Runs the release binary (build it first: cargo build --release) under
/usr/bin/time -v. Exits non-zero if any file breaks a bound.
Usage: scripts/validate_bounds.py [--binary PATH]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

LIMIT_BYTES = 1024 * 1024
MAX_SECONDS = 2.0
MAX_KIB = 200 * 1024


def steps(n, body):
    return "version: 1\nname: shape\nsteps:\n" + "".join(body(i) for i in range(n))


def shapes():
    line = "x {{ inputs.x }}" * 55_000
    bad = "x {{ inputs.y }}" * 55_000
    head = "version: 1\nname: shape\ninputs:\n  x: { default: a }\nsteps:\n  - id: a\n"
    yield "templates-manual", head + f'    manual: "{line}"\n'
    yield "templates-http", head + f'    http:\n      url: "http://h/{line}"\n'
    yield "templates-unknown", head + f'    manual: "{bad}"\n'
    yield "templates-shell", head + f'    shell:\n      run: "echo {line}"\n'
    yield "bad-steps-8000", steps(8000, lambda i: (
        f"  - id: s{i}\n    needs: [nope{i}]\n"
        f'    shell: {{ run: "echo {{{{ steps.zz{i}.outputs.q }}}}" }}\n    bogus{i}: 1\n'))
    yield "bad-needs-10000", steps(10000, lambda i: f"  - {{ id: s{i}, needs: [n{i}], manual: go }}\n")
    yield "unknown-refs-10000", steps(10000, lambda i: (
        f'  - {{ id: s{i}, manual: "{{{{ steps.q{i}.status }}}}" }}\n'))
    yield "chain-5000", "version: 1\nname: chain\nsteps:\n  - id: s0\n    manual: go\n" + "".join(
        f'  - id: s{i}\n    needs: [s{i - 1}]\n    manual: "{{{{ steps.s0.status }}}}"\n'
        for i in range(1, 5000))
    yield "fan-in-9000", steps(9000, lambda i: f"  - {{ id: s{i}, manual: go }}\n") + (
        "  - id: last\n    needs: [" + ", ".join(f"s{i}" for i in range(9000)) + "]\n    manual: go\n")
    yield "dense-3000", steps(3000, lambda i: (
        f"  - id: s{i}\n    needs: [" + ", ".join(f"s{j}" for j in range(max(0, i - 30), i)) +
        (']\n    manual: go\n' if i == 0 else ']\n    manual: "{{ steps.s0.status }}"\n')))
    yield "steps-10000", steps(10000, lambda i: f"  - {{ id: s{i}, manual: go }}\n")
    yield "steps-over-limit", steps(35000, lambda i: f"  - {{id: s{i}, manual: x}}\n")
    yield "unknown-keys-60000", "version: 1\nname: keys\nsteps:\n  - id: a\n    manual: go\n" + "".join(
        f"    k{i}: 1\n" for i in range(60000))
    yield "long-expression", head.replace("steps:\n  - id: a\n", "steps:\n  - id: a\n") + (
        '    manual: "{{ inputs.x' + " ~ inputs.x" * 80_000 + ' }}"\n')
    yield "long-line-problem", (
        'version: 1\nname: wide\nsteps:\n  - { id: a, manual: "' + "y" * 100_000 +
        '", bogus: 1, ' + "z" * 50_000 + " }\n")
    yield "alias-bomb", "version: 1\nname: s\nx0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 12)) + (
        "steps:\n  - { id: a, manual: go }\n")
    yield "merge-key-chain", "version: 1\nname: s\nsteps:\n  - &s0 { id: a, manual: go }\n" + "".join(
        f"  - &s{i} {{ <<: *s{i - 1}, id: a{i} }}\n" for i in range(1, 30000))
    yield "deep-flow-json", head + "    http:\n      url: 'http://h/'\n      json: " + (
        "{a: " * 60000 + "1" + "}" * 60000 + "\n")
    yield "choices-200000", "version: 1\nname: s\ninputs:\n  x:\n    choices: [" + ", ".join(
        "c" for _ in range(200000)) + "]\nsteps:\n  - { id: a, manual: go }\n"
    yield "inputs-20000", "version: 1\nname: s\ninputs:\n" + "".join(
        f"  i{i}: {{ default: a }}\n" for i in range(20000)) + "steps:\n  - { id: a, manual: go }\n"
    yield "documents-many", "version: 1\nname: s\nsteps:\n  - { id: a, manual: go }\n" + (
        "---\nversion: 1\n" * 50000)
    yield "cycle-10000", steps(10000, lambda i: f"  - {{ id: s{i}, needs: [s{(i + 1) % 10000}], manual: go }}\n")
    yield "needs-repeated", steps(1, lambda i: "  - { id: r, manual: go }\n  - id: b\n    manual: go\n"
                                  "    needs: [" + ", ".join(["r"] * 150000) + "]\n")
    yield "templates-sql", head + f'    postgres:\n      url: "postgres://h/db"\n      query: "SELECT 1 {line}"\n'
    yield "scalar-1mib", head + '    manual: "' + "y" * (LIMIT_BYTES - 200) + '"\n'
    yield "crlf-bom-nul", ("\ufeff" + head + "    manual: go\n    bogus: 1\n").replace("\n", "\r\n") + "\0"
    yield "mid-multibyte", (head + '    manual: "' + "é" * 10).encode() + b"\xe2\x82" + b'x"\n'
    yield "not-utf8", (head + '    manual: "' + "é" * 300_000).encode() + b"\xff\"\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(
        os.path.dirname(__file__), "..", "target", "release", "drctl"))
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in shapes():
            data = text if isinstance(text, bytes) else text.encode()
            if len(data) > LIMIT_BYTES:
                data = data[:LIMIT_BYTES]
            path = os.path.join(tmp, f"{name}.yaml")
            with open(path, "wb") as f:
                f.write(data)
            run = subprocess.run(
                ["/usr/bin/time", "-v", args.binary, "validate", path],
                capture_output=True, text=True, errors="replace", timeout=120)
            seconds = float(re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+(?:\.\d+)?)",
                                      run.stderr).group(2))
            kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
            longest = max((len(l) for l in run.stderr.splitlines()), default=0)
            summary = next((l for l in reversed(run.stderr.splitlines())
                            if "runbook checked" in l), "")
            ok = seconds <= MAX_SECONDS and kib <= MAX_KIB and longest < 400
            failed |= not ok
            print(f"{'ok ' if ok else 'BAD'} {name:22} {len(data):>8} B  {seconds:5.2f} s  "
                  f"{kib / 1024:6.1f} MiB  longest line {longest:4}  {summary}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
