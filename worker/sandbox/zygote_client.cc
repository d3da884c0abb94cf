// testfleet-zygote-client COUNT
//
// Stands for one zygote-forked job in the worker's process supervision (runProcess): the worker starts it as it
// would start bubblewrap, in the job's cgroups, as the job's host uid, with the stage runner's pipes. It sends the
// job's request (fd kRequest) with its stdin, stdout, stderr, stage and collect pipes and COUNT more descriptors
// from kFirstForwarded up over the job socket (fd kJobSocket) to the child the zygote forked (zygote.py), then
// relays what that child answers: "ready" becomes bubblewrap's {"child-pid": 1} on the isolation status pipe (the
// sandbox is set up), "setup <why>" goes to stderr, and "exit <code>" is this program's exit code. When it is killed
// (timeout, cancel), the job's init sees the socket close and kills the job. Exit 125: the job never started.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "worker/sandbox/stage_runner_fds.h"
#include "worker/sandbox/zygote_fds.h"

namespace {

namespace zf = testfleet::zygote_fds;
namespace sf = testfleet::stage_runner_fds;

std::string readAll(int fd) {
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

bool sendRequest(const std::string& request, const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(request.data()), request.size()};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  return ::sendmsg(zf::kJobSocket, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: testfleet-zygote-client COUNT\n");
    return 125;
  }
  const int count = std::atoi(argv[1]);
  std::vector<int> fds = {0, 1, 2, sf::kStageStatus, sf::kCollect};
  for (int i = 0; i < count && i < 32; ++i) fds.push_back(zf::kFirstForwarded + i);
  const std::string request = readAll(zf::kRequest);
  if (!sendRequest(request, fds)) {
    std::fprintf(stderr, "testfleet: cannot hand the job to the zygote: %s\n", std::strerror(errno));
    return 125;
  }
  for (size_t i = 3; i < fds.size(); ++i) ::close(fds[i]);  // the child holds them now
  char answer[4096];
  for (;;) {
    ssize_t n = ::recv(zf::kJobSocket, answer, sizeof answer - 1, 0);
    if (n <= 0) break;
    answer[n] = 0;
    if (std::strcmp(answer, "ready") == 0) {
      const char status[] = "{\"child-pid\": 1}\n";
      (void)!::write(sf::kIsolationStatus, status, sizeof status - 1);
      ::close(sf::kIsolationStatus);
    } else if (std::strncmp(answer, "setup ", 6) == 0) {
      std::fprintf(stderr, "testfleet: the zygote could not set up the job's sandbox: %s\n", answer + 6);
    } else if (std::strncmp(answer, "exit ", 5) == 0) {
      return std::atoi(answer + 5);
    }
  }
  std::fprintf(stderr, "testfleet: the zygote's child ended without an exit status\n");
  return 125;
}
