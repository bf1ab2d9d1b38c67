// Ctrl-C / SIGTERM handling for the long-running commands: a thread waits for the signal and
// then stops the daemon cleanly.
#pragma once

namespace zs::cli {

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards; call
// first thing in main. Then wait_for_stop_signal() returns when one arrives.
void block_stop_signals();
void wait_for_stop_signal();
// Wakes wait_for_stop_signal() without a signal (the daemon stopped on its own).
void release_stop_waiters();

}  // namespace zs::cli
