# Runs test suites a few at a time, each with its own log, for scripts/test.sh. Most client
# suites spend their time waiting on a browser, a server or the database rather than computing,
# so two at a time on two cores take about half the wall time of one after the other.
#
#   source tests/clients/lib/jobs.sh
#   jobs_init <log dir>
#   job [--alone] <name> <description> <command...>   # queue; --alone: nothing else runs with it
#                                                     # (timing-sensitive: kill -9, PostgreSQL
#                                                     # restarts, the benchmark)
#   jobs_run <at most N at a time>                    # 0 if every job exited 0
#   jobs_kill                                         # TERM the running jobs (for an EXIT trap)
#
# Jobs start in the order queued (queue the longest first). Each job's output goes to
# <log dir>/<name>.log; when a job ends its time and last line are printed, and a failed job's
# whole log, so interleaved suites still read one at a time. Needs bash 5.1 (wait -n -p).

JOBS_DIR=""
JOB_NAMES=()
JOB_DESCS=()
JOB_CMDS=()
JOB_ALONE=()
declare -A JOBS_RUNNING=() # pid -> job index

jobs_init() {
  JOBS_DIR="$1"
  rm -rf "$JOBS_DIR"
  mkdir -p "$JOBS_DIR"
  JOB_NAMES=() JOB_DESCS=() JOB_CMDS=() JOB_ALONE=()
}

job() {
  local alone=0
  [[ "$1" == --alone ]] && { alone=1; shift; }
  JOB_NAMES+=("$1")
  JOB_DESCS+=("$2")
  shift 2
  JOB_CMDS+=("$(printf '%q ' "$@")")
  JOB_ALONE+=("$alone")
}

jobs_kill() {
  local pid
  for pid in "${!JOBS_RUNNING[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${!JOBS_RUNNING[@]}"; do
    wait "$pid" 2>/dev/null
  done
  JOBS_RUNNING=()
}

# The children's user + system seconds from `times` (its last line: "0m1.5s 0m0.25s" -> "2s").
jobs_cpu() {
  [[ -s "$1" ]] || { echo "?"; return 0; }
  tail -n1 "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } printf "%.0fs", t }'
}

jobs_run() {
  local max="$1" next=0 count="${#JOB_NAMES[@]}" pid i rc failed=() results=()
  local -A started=()
  local phase_start=$SECONDS
  while (( next < count || ${#JOBS_RUNNING[@]} > 0 )); do
    # Start what fits: an --alone job waits for an empty slot set and then blocks the others.
    while (( next < count && ${#JOBS_RUNNING[@]} < max )); do
      if [[ "${JOB_ALONE[next]}" == 1 && ${#JOBS_RUNNING[@]} -gt 0 ]]; then break; fi
      if (( ${#JOBS_RUNNING[@]} > 0 )); then
        local r blocked=0
        for r in "${JOBS_RUNNING[@]}"; do [[ "${JOB_ALONE[r]}" == 1 ]] && blocked=1; done
        (( blocked )) && break
      fi
      printf '==> %s (at %ds): %s\n' "${JOB_NAMES[next]}" "$SECONDS" "${JOB_DESCS[next]}"
      # A job of its own: its own process group is not needed, every suite stops what it started.
      # `times` in the job's shell: the CPU its processes used, next to the wall time (on a
      # shared machine the CPU seconds are the steadier figure).
      (
        eval "${JOB_CMDS[next]}"
        rc=$?
        times >"$JOBS_DIR/.${JOB_NAMES[next]}.cpu" # its second line: the children
        exit "$rc"
      ) </dev/null >"$JOBS_DIR/${JOB_NAMES[next]}.log" 2>&1 &
      JOBS_RUNNING[$!]="$next"
      started[$!]=$SECONDS
      next=$((next + 1))
    done
    rc=0
    wait -n -p pid "${!JOBS_RUNNING[@]}" || rc=$?
    [[ -n "${pid:-}" && -n "${JOBS_RUNNING[$pid]:-}" ]] || continue
    i="${JOBS_RUNNING[$pid]}"
    unset "JOBS_RUNNING[$pid]"
    local took=$((SECONDS - started[$pid])) log="$JOBS_DIR/${JOB_NAMES[i]}.log" cpu
    cpu="$(jobs_cpu "$JOBS_DIR/.${JOB_NAMES[i]}.cpu")"
    if [[ "$rc" == 0 ]]; then
      printf '<== %ds (%s CPU): %s passed (%s)\n' "$took" "$cpu" "${JOB_NAMES[i]}" "$(grep -v '^\s*$' "$log" | tail -n1)"
      results+=("$(printf '%5ds %7s CPU  %s' "$took" "$cpu" "${JOB_NAMES[i]}")")
    else
      printf '<== %ds (%s CPU): %s FAILED (exit %s); its log (%s):\n' "$took" "$cpu" "${JOB_NAMES[i]}" "$rc" "$log"
      sed 's/^/  | /' "$log"
      printf '<== end of %s\n' "${JOB_NAMES[i]}"
      results+=("$(printf '%5ds %7s CPU  %s FAILED' "$took" "$cpu" "${JOB_NAMES[i]}")")
      failed+=("${JOB_NAMES[i]}")
    fi
  done
  printf '\n== %d jobs, %d at a time, in %ds (each job: its wall time, its CPU time)\n' "$count" "$max" "$((SECONDS - phase_start))"
  printf '%s\n' "${results[@]}"
  if (( ${#failed[@]} > 0 )); then
    printf 'FAILED: %s (logs in %s)\n' "${failed[*]}" "$JOBS_DIR"
    return 1
  fi
}
