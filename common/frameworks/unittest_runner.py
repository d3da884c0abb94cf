# testfleet's runner for python's unittest (with --list first: lists them instead): runs the named tests (files, modules or dotted ids; discovery from the
# workspace when none are named) with unittest's own loader and text runner, and writes a JUnit XML report to
# the path in argv[1]. Verdicts follow unittest's: an assertion is a failure, any other exception an error, an
# expected failure passes, an unexpected success fails. Embedded into the worker at build time.
import io
import sys
import time
import traceback
import unittest
import xml.etree.ElementTree as ET


def module_name(arg):
    if arg.endswith(".py"):
        return arg[:-3].replace("/", ".")
    return arg


class Recorder(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []
        self._started = {}

    def _split(self, test):
        tid = test.id()
        if isinstance(test, unittest.loader._FailedTest):
            # The module or name could not be loaded: unittest reports it as an error of a made-up test.
            return "unittest.loader", tid.rsplit(".", 1)[-1]
        if "." not in tid:
            return "", tid
        cls, name = tid.rsplit(".", 1)
        return cls, name

    def _add(self, test, status, message="", details=""):
        cls, name = self._split(test)
        spent = time.monotonic() - self._started.pop(test.id(), time.monotonic())
        self.cases.append((cls, name, status, message, details, spent))

    def startTest(self, test):
        self._started[test.id()] = time.monotonic()
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        if not getattr(test, "_tf_subtest_failed", False):
            self._add(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._add(test, "failure", str(err[1]), self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._add(test, "error", "%s: %s" % (err[0].__name__, err[1]), self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._add(test, "skipped", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._add(test, "passed", "expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._add(test, "failure", "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None and not getattr(test, "_tf_subtest_failed", False):
            test._tf_subtest_failed = True
            kind = "failure" if issubclass(err[0], test.failureException) else "error"
            self._add(test, kind, "%s: %s" % (subtest.id(), err[1]), self._exc_info_to_string(err, test))


def write_report(path, cases):
    root = ET.Element("testsuite", name="unittest", tests=str(len(cases)))
    for cls, name, status, message, details, spent in cases:
        tc = ET.SubElement(root, "testcase", classname=cls, name=name, time="%.3f" % spent)
        if status != "passed":
            el = ET.SubElement(tc, status, message=message[:4000])
            el.text = details[-16000:]
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def each_test(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from each_test(item)
        else:
            yield item


def main():
    listing = sys.argv[1] == "--list"
    if listing:
        del sys.argv[1]
    report, names = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, ".")
    loader = unittest.TestLoader()
    if names:
        suite = unittest.TestSuite()
        for n in names:
            try:
                suite.addTests(loader.loadTestsFromName(module_name(n)))
            except Exception:
                cases = [("unittest.loader", module_name(n), "error", "cannot load " + n, traceback.format_exc(), 0)]
                write_report(report, cases)
                return 1
    else:
        suite = loader.discover(".")
    if listing:
        # One dotted id per line; a module that cannot load fails the listing with its traceback.
        ids = []
        for test in each_test(suite):
            if isinstance(test, unittest.loader._FailedTest):
                sys.stderr.write(str(test._exception) + "\n")
                return 1
            ids.append(test.id())
        with open(report, "w") as f:
            f.write("".join(i + "\n" for i in ids))
        return 0
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Recorder)
    result = runner.run(suite)
    write_report(report, result.cases)
    return 0 if result.wasSuccessful() else 1


sys.exit(main())
