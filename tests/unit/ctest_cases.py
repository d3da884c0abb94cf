#!/usr/bin/env python3
"""Writes a CTest file with one test per doctest case of a test binary, each labelled `unit`.

Run after each build of the binary (a POST_BUILD step in tests/CMakeLists.txt): ctest_cases.py BINARY OUT.cmake
Does what doctest's own doctest_discover_tests does, but keeps case names whole: that module splits a name at
";" (a CMake list), and several of ours hold one. A CTest name keeps the case's name with ";" written as ","; the
test selects its case with --test-case (exact name; "," and "\\" escaped as doctest's filter wants).
"""
import subprocess
import sys


def bracket(text):
    """A CMake bracket argument holding text exactly."""
    level = "="
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def main():
    binary, out = sys.argv[1], sys.argv[2]
    listing = subprocess.run([binary, "--list-test-cases", "--no-version"], capture_output=True, text=True,
                             check=True).stdout
    names = [line for line in listing.splitlines()
             if line and not line.startswith("[doctest]") and not line.startswith("=====")]
    lines, seen = [], set()
    for name in names:
        test = name.replace(";", ",")
        if test in seen:
            sys.exit(f"two doctest cases are both named {name!r}: CTest needs them apart")
        seen.add(test)
        selector = name.replace("\\", "\\\\").replace(",", "\\,")
        lines.append(f"add_test({bracket(test)} {bracket(binary)} {bracket('--test-case=' + selector)})")
        # A selector that matches no case would pass silently: doctest then reports 0 test cases.
        lines.append(f"set_tests_properties({bracket(test)} PROPERTIES LABELS unit "
                     f"FAIL_REGULAR_EXPRESSION {bracket('test cases: +0 ')})")
    if not names:
        sys.exit(f"{binary} lists no test cases")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
