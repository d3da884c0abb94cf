#include "common/api_token.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace testfleet {

std::string readApiToken(const std::filesystem::path& file, const std::string& option) {
  const std::string named = option + " " + file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::invalid_argument(named + ": cannot be read (does it exist, and may this user read it?)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw std::invalid_argument(named + ": is empty; put the token in it");
  std::string token = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  for (unsigned char c : token) {
    if (c <= ' ' || c >= 127) {
      throw std::invalid_argument(named +
                                  ": the token must be one word of printable ASCII (e.g. the output of "
                                  "`openssl rand -hex 32`)");
    }
  }
  return token;
}

}  // namespace testfleet
