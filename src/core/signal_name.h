// Signal names as sbatch --signal, scancel --signal and the tenants file's preemption.signal
// write them: "USR1", "SIGUSR1", "sigusr1" or a number 1..64.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace zs {

// The signal number, or nullopt when `text` is neither a known name (with or without the
// "SIG" prefix, any case) nor a number 1..64.
std::optional<int> parse_signal(std::string_view text);
// The normalized name, "SIGUSR1"; a number without a name is written as the number, "34".
std::string signal_name(int signal);
// Whether a process can catch the signal, i.e. whether it can ask for a checkpoint: false for
// SIGKILL and SIGSTOP.
bool catchable_signal(int signal);

}  // namespace zs
