#include <doctest/doctest.h>

#include "common/exception_text.h"

using namespace testfleet;

// Outputs captured from the frameworks here (pytest 9.2 on Python 3.11, node 20.20), paths as in the sandbox.
TEST_CASE("the exception of a Python traceback, pytest's E lines and node's uncaught error") {
  // pytest 9.2, exit 4: a conftest that cannot import, on stderr.
  CHECK(exceptionText("ImportError while loading conftest '/work/conftest.py'.\n"
                      "conftest.py:1: in <module>\n"
                      "    import no_such_module_xyz\n"
                      "E   ModuleNotFoundError: No module named 'no_such_module_xyz'\n") ==
        "ModuleNotFoundError: No module named 'no_such_module_xyz'");
  // A plain traceback: the last exception, not the one it was raised while handling.
  CHECK(exceptionText("Traceback (most recent call last):\n  File \"a.py\", line 1\nKeyError: 'x'\n\n"
                      "During handling of the above exception, another exception occurred:\n\n"
                      "Traceback (most recent call last):\n  File \"a.py\", line 3\n"
                      "yaml.scanner.ScannerError: bad\n") == "yaml.scanner.ScannerError: bad");
  CHECK(exceptionText("Error [ERR_REQUIRE_ESM]: require() of ES Module /work/m.mjs not supported.\n") ==
        "Error [ERR_REQUIRE_ESM]: require() of ES Module /work/m.mjs not supported.");
  CHECK(exceptionText("KeyboardInterrupt\n") == "KeyboardInterrupt");
  // Not exceptions: a sentence starting with one's name, an indented stack line, a count.
  CHECK(exceptionText("ImportError while loading conftest '/work/conftest.py'.\n    at Error: x\n1 error in 0.9s\n")
            .empty());
  CHECK(exceptionText("").empty());
}

TEST_CASE("node --test: the uncaught error printed for one file") {
  const char* output =
      "\xE2\x9C\x94 a (1.110683ms)\n"
      "node:internal/modules/cjs/loader:1210\n  throw err;\n  ^\n\n"
      "Error: Cannot find module 'no-such-module-xyz'\nRequire stack:\n- /work/b.test.js\n"
      "    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)\n"
      "    at Object.<anonymous> (/work/b.test.js:1:1) {\n  code: 'MODULE_NOT_FOUND',\n"
      "  requireStack: [ '/work/b.test.js' ]\n}\n\nNode.js v20.20.2\n"
      "\xE2\x9C\x96 /work/b.test.js (459.23511ms)\n  'test failed'\n\n"
      "/work/c.test.js:2\nthrow new Error('boom at load');\n^\n\n"
      "Error: boom at load\n    at Object.<anonymous> (/work/c.test.js:2:7)\n\nNode.js v20.20.2\n"
      "\xE2\x9C\x96 /work/c.test.js (338.843259ms)\n  'test failed'\n";
  CHECK(exceptionTextFor(output, "/work/b.test.js") == "Error: Cannot find module 'no-such-module-xyz'");
  CHECK(exceptionTextFor(output, "/work/c.test.js") == "Error: boom at load");
  CHECK(exceptionTextFor(output, "/work/a.test.js").empty());
  CHECK(exceptionTextFor(output, "").empty());
}
