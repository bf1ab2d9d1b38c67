// Signal names as sbatch --signal, scancel --signal and the tenants file's preemption.signal
// write them: "USR1", "SIGUSR1", "sigusr1" or a number 1..64.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace zs {

inline constexpr int kMaxSignalNumber = 64;  // real-time signals included (SIGRTMAX on Linux)
// sbatch --signal=SIG@TIME: TIME is seconds before the time limit, at most 65535 (Slurm's own
// bound: a 16-bit field), 60 when omitted.
inline constexpr int kMaxSignalTimeS = 65535;
inline constexpr int kDefaultSignalTimeS = 60;

// The signal number, or nullopt when `text` is neither a known name (with or without the
// "SIG" prefix, any case) nor a number 1..64.
std::optional<int> parse_signal(std::string_view text);
// The normalized name, "SIGUSR1"; a number without a name is written as the number, "34".
std::string signal_name(int signal);
// Whether a process can catch the signal, i.e. whether it can ask for a checkpoint: false for
// SIGKILL and SIGSTOP.
bool catchable_signal(int signal);

}  // namespace zs
