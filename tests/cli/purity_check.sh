#!/usr/bin/env bash
# src/core and src/sched are pure: no I/O, clock, thread or process headers may appear there.
set -u
cd "$(dirname "$0")/../.."
forbidden='<(iostream|fstream|sstream|cstdio|stdio\.h|chrono|ctime|time\.h|thread|mutex|condition_variable|future|atomic|filesystem|random|unistd\.h|fcntl\.h|sys/[a-z_]+\.h|signal\.h|csignal)>'
hits=$(grep -rnE "^\s*#\s*include\s*$forbidden" src/core src/sched || true)
if [ -n "$hits" ]; then
  echo "FAIL: I/O, clock or thread headers in the pure core:"
  echo "$hits"
  exit 1
fi
echo "ok: src/core and src/sched include no I/O, clock or thread headers"
