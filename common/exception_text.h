// Why tests could not be loaded, as the framework printed it: the exception's own line out of a Python traceback
// (pytest's "E   " lines too) or out of node's print of an uncaught error. Pure; the readers and the result
// builder use it to give a collection or import error its text.
#pragma once

#include <string>
#include <string_view>

namespace testfleet {

// The last line of `output` that names an exception and its message — "ModuleNotFoundError: No module named 'x'",
// "Error: Cannot find module 'x'", "SyntaxError: Unexpected token" — or "" when there is none.
std::string exceptionText(std::string_view output);

// node --test prints each file's uncaught error, ending with a "Node.js vN" line: the exception of the print that
// names `file`, or "".
std::string exceptionTextFor(std::string_view output, std::string_view file);

}  // namespace testfleet
