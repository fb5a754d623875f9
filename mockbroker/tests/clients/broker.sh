# Sourced by the real-client suites: starts `ktrial broker` with the given arguments, waits for its
# bootstrap line (10 s at most) and sets $bootstrap and $work (a scratch directory). The broker is
# stopped and $work removed on every exit.
# Usage: start_broker PATH/TO/ktrial [ktrial broker arguments...]
start_broker() {
  local ktrial=$1
  shift
  work=$(mktemp -d)
  "$ktrial" broker "$@" >"$work/out" 2>"$work/log" &
  broker_pid=$!
  trap 'kill -TERM $broker_pid 2>/dev/null || true; wait $broker_pid 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 100); do grep -qs '^bootstrap=' "$work/out" && break; sleep 0.1; done
  bootstrap=$(sed -n 's/^bootstrap=//p' "$work/out")
  [ -n "$bootstrap" ] || { echo "no bootstrap line from ktrial broker"; cat "$work/log"; exit 1; }
}
