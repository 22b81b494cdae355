# Sourced by scripts/bench.sh for --cost (the cost curve, bench/cost.mjs): the plot's venv
# (matplotlib from PyPI, under target/), PostgreSQL unless --smoke, then the runner; exits with
# the runner's status. Expects ROOT, BIN, SMOKE, DB_PREFIX, RUNNER_PID and step() from bench.sh.
COST_VENV="$ROOT/target/bench-cost-venv"
if ! "$COST_VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
  step "matplotlib for the cost curve's plot (venv $COST_VENV)"
  python3 -m venv "$COST_VENV"
  "$COST_VENV/bin/pip" install -q --disable-pip-version-check matplotlib
fi
if [[ "$SMOKE" == 0 || " $* " == *"postgres"* ]] && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
step "cost curve (server on core 1, load generator and seeder on core 0)"
COST_ARGS=()
for arg in "$@"; do [[ "$arg" != "--cost" ]] && COST_ARGS+=("$arg"); done
taskset -c 0 node bench/cost.mjs --gatehouse-bin "$BIN" --db-prefix "${DB_PREFIX}_cost" \
  --python "$COST_VENV/bin/python" "${COST_ARGS[@]}" &
RUNNER_PID=$!
set +e
wait "$RUNNER_PID"
STATUS=$?
set -e
RUNNER_PID=""
exit "$STATUS"
