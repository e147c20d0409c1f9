# Runs commands side by side and waits for them: `job NAME CMD...` starts one in the background
# (its output goes to $LOGS/NAME.log), `join NAME` waits for it, prints how long it took and, if
# it failed, the end of its log, then stops the script. On 2 cores, two or three builds at once
# fill the time one build spends on a single core (its largest crates, linking, LTO).
LOGS="${LOGS:-$(mktemp -d)}"
declare -A JOB_PID JOB_START
job() {
  local name=$1; shift
  JOB_START[$name]=$(date +%s)
  ( "$@" ) >"$LOGS/$name.log" 2>&1 &
  JOB_PID[$name]=$!
}
# A job and everything it started (cargo's compilers included).
kill_tree() {
  local child
  for child in $(pgrep -P "$1"); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
# When the script stops early (a failed join, an error, Ctrl-C), the jobs still running stop
# with it instead of compiling on as orphans.
trap 'for pid in "${JOB_PID[@]}"; do kill_tree "$pid"; done' EXIT
join() {
  local name=$1 rc=0
  wait "${JOB_PID[$name]}" || rc=$?
  echo "$name: $(( $(date +%s) - JOB_START[$name] )) s"
  if [ "$rc" != 0 ]; then
    echo "$name failed (exit $rc); the end of its log ($LOGS/$name.log):"
    tail -n 60 "$LOGS/$name.log"
    exit "$rc"
  fi
  tail -n 1 "$LOGS/$name.log"
}
