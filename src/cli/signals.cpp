#include "cli/signals.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace zs::cli {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);  // release_stop_waiters
  return set;
}

}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill a daemon
}

void wait_for_stop_signal() {
  sigset_t set = stop_signals();
  int sig = 0;
  sigwait(&set, &sig);
}

void release_stop_waiters() {
  kill(getpid(), SIGUSR2);
}

}  // namespace zs::cli
