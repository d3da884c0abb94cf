#!/usr/bin/env python3
"""Checks the include rules of testfleet's parts; prints FILE:LINE: what and the rule broken, exits 1 on any.

    scripts/check_includes.py [--root DIR]    check the tree (default: the repository this script is in)
    scripts/check_includes.py --self-test     show that each rule catches a violation in a small temp tree

Run by CTest (label unit) as check_includes and check_includes_self_test. Only the parts' own code is checked
(tests/ and bench/ may reach into anything they test or measure).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# What each folder's files may include of the project's own headers (the most specific folder applies): a part
# its own headers, common/ and suite/; suite/ only common/; common/ only itself; storage never reports/. Headers
# outside these folders (generated proto, third party) are not parts and are left to the rules below.
MAY_INCLUDE = {
    "common/": ("common/",),
    "suite/": ("common/", "suite/"),
    "producer/": ("common/", "suite/", "producer/"),
    "worker/": ("common/", "suite/", "worker/"),
    "aggregator/": ("common/", "suite/", "aggregator/"),
    "aggregator/storage/": ("common/", "suite/", "aggregator/storage/"),
}
PROJECT_FOLDERS = ("common/", "suite/", "producer/", "worker/", "aggregator/")

# (rule, what an #include <…> or "…" names, the only folders where it may appear)
INCLUDE_RULES = [
    ("only common/kafka includes librdkafka", r"^(librdkafka/|rdkafka)", ("common/kafka/",)),
    ("only aggregator/storage includes sqlite3", r"^sqlite3\.h$", ("aggregator/storage/",)),
    ("only worker/sandbox knows about namespaces, mounts and seccomp",
     r"^(sys/mount\.h|sched\.h|seccomp\.h|sys/prctl\.h|linux/)", ("worker/sandbox/",)),
    # The libraries below are installed in /usr/include, so the compiler finds them from any target: these rules
    # hold what common/CMakeLists.txt says, that only the target linking a library uses it.
    ("only testfleet::http_client includes curl", r"^curl/", ("common/http_client.",)),
    ("only testfleet::bundle includes libarchive and OpenSSL", r"^(archive|archive_entry)\.h$|^openssl/",
     ("common/bundle.",)),
    ("only testfleet::frameworks and aggregator/reports include pugixml", r"^pugixml\.hpp$",
     ("common/junit_reader.", "common/go_test_reader.", "common/jest_json_reader.", "common/frameworks/",
      "aggregator/reports/")),
    ("only testfleet::base (config) and testfleet::suite include yaml-cpp", r"^yaml-cpp/", ("common/config.", "suite/")),
]

# (rule, what a line of code names, the only folders where it may appear)
CODE_RULES = [
    ("only worker/sandbox knows about namespaces and cgroups", r"\bCLONE_NEW\w*|/sys/fs/cgroup", ("worker/sandbox/",)),
]

SOURCE_SUFFIXES = (".h", ".cc", ".h.in")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def allowed_for(rel):
    folder = max((f for f in MAY_INCLUDE if rel.startswith(f)), key=len)
    return folder, MAY_INCLUDE[folder]


def check_file(root, rel):
    """The problems of one file, each 'FILE:LINE: message'."""
    problems = []
    folder, allowed = allowed_for(rel)
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            where = f"{rel}:{number}"
            m = INCLUDE.match(line)
            if m:
                header = m.group(1)
                if header.startswith(PROJECT_FOLDERS) and not header.startswith(allowed):
                    problems.append(f"{where}: includes {header}: {folder} may include only {', '.join(allowed)} "
                                    f"and generated headers")
                for rule, pattern, folders in INCLUDE_RULES:
                    if re.search(pattern, header) and not rel.startswith(folders):
                        problems.append(f"{where}: includes {header}: {rule}")
                continue
            code = line.split("//", 1)[0]
            for rule, pattern, folders in CODE_RULES:
                found = re.search(pattern, code)
                if found and not rel.startswith(folders):
                    problems.append(f"{where}: uses {found.group(0)}: {rule}")
    return problems


def check_tree(root):
    problems = []
    for top in PROJECT_FOLDERS:
        for folder, dirs, files in os.walk(os.path.join(root, top)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(SOURCE_SUFFIXES):
                    rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
                    problems.extend(check_file(root, rel))
    return problems


# One violating file per rule, and clean files that must pass.
SELF_TEST_FILES = {
    "worker/local_run.cc": '#include "worker/local_run.h"\n#include "producer/planner.h"\n',
    "suite/suite.cc": '#include "suite/suite.h"\n#include "worker/job_runner.h"\n',
    "common/text.cc": '#include "common/text.h"\n#include "suite/suite.h"\n',
    "producer/publisher.cc": '#include <string>\n#include <librdkafka/rdkafkacpp.h>\n',
    "aggregator/ingest.cc": '#include "aggregator/ingest.h"\n#include <sqlite3.h>\n',
    "worker/job_loop.cc": '#include <thread>\n#include <sys/mount.h>\n',
    "worker/job_runner.cc": '// a comment about CLONE_NEWNS is fine\nint f() { return CLONE_NEWUSER; }\n',
    "aggregator/storage/sqlite_result_store.cc": '#include <sqlite3.h>\n#include "aggregator/reports/summary.h"\n',
    "common/kafka/kafka.cc": '#include <librdkafka/rdkafkacpp.h>\n#include "common/text.h"\n',
    "worker/sandbox/user_network.cc": '#include <linux/nsfs.h>\n#include <sys/mount.h>\nint f() { return CLONE_NEWNET; }\n',
    "aggregator/http/api_server.cc": '#include "aggregator/reports/summary.h"\n#include "suite/planner.h"\n',
    "worker/result_builder.cc": '#include <pugixml.hpp>\n#include <curl/curl.h>\n',
    "producer/submit.cc": '#include "producer/submit.h"\n#include "suite/planner.h"\n#include "testfleet/v1/testfleet.pb.h"\n',
}
SELF_TEST_EXPECTED = [
    "aggregator/ingest.cc:2: includes sqlite3.h: only aggregator/storage includes sqlite3",
    "aggregator/storage/sqlite_result_store.cc:2: includes aggregator/reports/summary.h: aggregator/storage/ may "
    "include only common/, suite/, aggregator/storage/ and generated headers",
    "common/text.cc:2: includes suite/suite.h: common/ may include only common/ and generated headers",
    "producer/publisher.cc:2: includes librdkafka/rdkafkacpp.h: only common/kafka includes librdkafka",
    "suite/suite.cc:2: includes worker/job_runner.h: suite/ may include only common/, suite/ and generated headers",
    "worker/job_loop.cc:2: includes sys/mount.h: only worker/sandbox knows about namespaces, mounts and seccomp",
    "worker/job_runner.cc:2: uses CLONE_NEWUSER: only worker/sandbox knows about namespaces and cgroups",
    "worker/result_builder.cc:1: includes pugixml.hpp: only testfleet::frameworks and aggregator/reports include pugixml",
    "worker/result_builder.cc:2: includes curl/curl.h: only testfleet::http_client includes curl",
    "worker/local_run.cc:2: includes producer/planner.h: worker/ may include only common/, suite/, worker/ and "
    "generated headers",
]


def self_test():
    with tempfile.TemporaryDirectory() as root:
        for rel, text in SELF_TEST_FILES.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        found = sorted(check_tree(root))
        if found != sorted(SELF_TEST_EXPECTED):
            print("check_includes self-test FAILED\n  expected:\n    " + "\n    ".join(sorted(SELF_TEST_EXPECTED)) +
                  "\n  found:\n    " + "\n    ".join(found), file=sys.stderr)
            return 1
        run = subprocess.run([sys.executable, os.path.abspath(__file__), "--root", root], capture_output=True, text=True)
        if run.returncode == 0:
            print("check_includes self-test FAILED: a tree with violations exits 0", file=sys.stderr)
            return 1
    print(f"check_includes self-test: {len(SELF_TEST_EXPECTED)} violations caught, clean files passed")
    return 0


def main_exit_code(root):
    problems = check_tree(root)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    code = main_exit_code(args.root)
    if code == 0:
        print("check_includes: every part keeps to its include rules")
    return code


if __name__ == "__main__":
    sys.exit(main())
