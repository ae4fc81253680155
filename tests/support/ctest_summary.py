#!/usr/bin/env python3
"""Counts of a test run from ctest's JUnit files (ctest --output-junit).

    ctest_summary.py NAME=FILE.xml ...

prints one line per file ("asan: 231 passed, 0 failed, 2 skipped"), names every test that
failed or was skipped, then the total as the last line:
    tests: 260 passed, 0 failed, 2 skipped
A file that is missing counts as one failure (its pass did not report)."""
import sys
import xml.etree.ElementTree as ET


def counts(path):
    passed, failed, skipped = [], [], []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name")
        status = case.get("status", "run")
        if status in ("notrun", "disabled") or case.find("skipped") is not None:
            skipped.append(name)
        elif status == "fail" or case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
        else:
            passed.append(name)
    return passed, failed, skipped


def main(args):
    total = [0, 0, 0]
    for arg in args:
        name, _, path = arg.partition("=")
        try:
            p, f, s = counts(path)
        except (OSError, ET.ParseError) as e:
            print("%s: no results (%s)" % (name, e))
            total[1] += 1
            continue
        print("%s: %d passed, %d failed, %d skipped" % (name, len(p), len(f), len(s)))
        for what, names in (("failed", f), ("skipped", s)):
            for n in names:
                print("  %s: %s" % (what, n))
        for i, n in enumerate((len(p), len(f), len(s))):
            total[i] += n
    print("tests: %d passed, %d failed, %d skipped" % tuple(total))


if __name__ == "__main__":
    main(sys.argv[1:])
