#!/usr/bin/env python3
"""Proves that check_docs.py finds what it is meant to find (ctest
docs.selftest): fixtures/good.md must pass, and fixtures/bad.md must fail
with each of the errors listed below, one per kind of check.

    check_docs_selftest.py ARGS...   (the arguments check_docs.py takes, less the page)
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (line of fixtures/bad.md, text its error must contain)
EXPECTED = [
    (4, "a C++ block without main()"),
    (7, "a code block without a language"),
    (13, "undeclared_name"),
    (18, "'no_such_function' is declared nowhere"),
    (19, "struct 'NoSuchStruct' is declared nowhere"),
    (23, "docs-test markers are for C++ blocks"),
    (28, "defines no target 'no_such_example'"),
    (29, "mnist_mlp does not accept --no-such-flag"),
    (30, "--net takes keras128|dense512|mlp300, not 'no_such_net'"),
    (31, "-DLAMINA_NO_SUCH_OPTION: CMakeLists.txt has no such option"),
    (31, "-DLAMINA_SANITIZE=no_such_sanitizer: not one of"),
    (32, "--target no_such_target: no CMakeLists.txt defines it"),
    (33, "-L no_such_label: no test has that label"),
    (34, "'scripts/no_such_script.sh' does not exist"),
    (35, "scripts/install-deps.sh takes no flag --no-such-flag"),
    (36, "'data/models/no_such_model.lamina' does not exist"),
    (37, "no C++ block of this page is marked <!-- docs-test: program no_such_program.cpp -->"),
    (41, "lamina::no_such_target: CMakeLists.txt defines no such target"),
    (44, "code blocks in 'ruby' are not checked"),
]


def run(page, args):
    work = [a for a in args]
    r = subprocess.run([sys.executable, os.path.join(HERE, "check_docs.py"), os.path.join(HERE, "fixtures", page)]
                       + work, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main():
    args = sys.argv[1:]
    failures = []
    rc, out = run("good.md", args)
    print(out)
    if rc not in (0, 77):
        failures.append(f"fixtures/good.md: exit {rc}, expected 0")
    bad_rc, bad_out = run("bad.md", args)
    print(bad_out)
    if bad_rc != 1:
        failures.append(f"fixtures/bad.md: exit {bad_rc}, expected 1")
    for line, text in EXPECTED:
        if not any(f"bad.md:{line}" in l and text in l for l in bad_out.split("\n")):
            failures.append(f"fixtures/bad.md:{line}: no error containing: {text}")
    for f in failures:
        print("FAILED: " + f, file=sys.stderr)
    if failures:
        return 1
    return 77 if rc == 77 else 0


if __name__ == "__main__":
    sys.exit(main())
