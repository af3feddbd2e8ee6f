#!/usr/bin/env bash
# `make demo`: the local chain (state kept in .chain/), the contracts, demo households, the meter oracle on simulated
# meters, a small trading bot and the dashboard. Ctrl-C stops everything; the next `make demo` resumes the same state.
set -euo pipefail
cd "$(dirname "$0")/.."

CHAIN_PORT=${CHAIN_PORT:-8545}
WEB_PORT=${WEB_PORT:-5000}
ORACLE_METRICS_PORT=${ORACLE_METRICS_PORT:-9108}
BLOCK_TIME=${BLOCK_TIME:-1}
GAS_LIMIT=${GAS_LIMIT:-300000000}
CHAIN_DIR=${CHAIN_DIR:-.chain}
DEMO_DIR=${DEMO_DIR:-var/demo}
export RPC_URL="http://127.0.0.1:${CHAIN_PORT}"
export CHAIN_ID=1337
export DATABASE_URL=${DATABASE_URL:-sqlite:///$PWD/$DEMO_DIR/webapp.sqlite}
# Demo only: users top themselves up at once (no payment), within per-account and all-account caps per 24 h.
# Without this, top-ups are requests the operator confirms on the operator page.
export WEBAPP_TOPUP_SELF_SERVICE=${WEBAPP_TOPUP_SELF_SERVICE:-1}
export WEBAPP_PUBLIC_URL=${WEBAPP_PUBLIC_URL:-http://127.0.0.1:${WEB_PORT:-5000}}
mkdir -p "$DEMO_DIR/logs" "$DEMO_DIR/keys"

# Services run under setsid, each in its own session: Ctrl-C reaches only this script, whose trap stops them in order.
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping the demo…"
  # Newest first, each gone before the next: the dashboard, bot and oracle finish with the chain still up,
  # and the chain goes last so it writes its state file.
  for ((i=${#pids[@]}-1; i>=0; i--)); do
    sig=TERM; [ "$i" -eq 0 ] && sig=INT  # services stop gracefully on TERM; anvil writes its state file on INT
    kill -"$sig" "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "stopped; chain state kept in $CHAIN_DIR/ (make reset starts from genesis)"
}
trap cleanup INT TERM EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$CHAIN_PORT" "$WEB_PORT" "$ORACLE_METRICS_PORT"; do
  if port_busy "$p"; then
    echo "port $p is in use (another demo or program?). Stop it, or choose others: make demo CHAIN_PORT=… WEB_PORT=…" >&2
    exit 1
  fi
done

echo "== chain: anvil on $RPC_URL (chain 1337, gas price 0, ${BLOCK_TIME}s blocks, gas limit $GAS_LIMIT, state in $CHAIN_DIR/)"
setsid python -m energy_chain.anvil --port "$CHAIN_PORT" --block-time "$BLOCK_TIME" --gas-limit "$GAS_LIMIT" \
  --state-dir "$CHAIN_DIR" >"$DEMO_DIR/logs/anvil.log" 2>&1 &
pids+=($!)
python -c "from energy_chain.anvil import wait_for_rpc; wait_for_rpc('$RPC_URL', timeout=60)"

echo "== contracts"
python -m scripts.deploy

echo "== dashboard database: create or upgrade its schema ($DATABASE_URL)"
python -m webapp upgrade

echo "== demo households: wallets, meters, money (idempotent)"
python -m webapp seed-demo

echo "== meter oracle on the simulated community (replays the last 12 h fast, then follows the clock)"
echo "   log: $DEMO_DIR/logs/oracle.log, metrics: http://127.0.0.1:${ORACLE_METRICS_PORT}/metrics"
[ -f "$DEMO_DIR/keys/oracle.json" ] || python -m energy_chain.devchain keystore --role oracle \
  --out "$DEMO_DIR/keys/oracle.json" --password-file "$DEMO_DIR/keys/oracle.password"
setsid python -m meter_oracle run --simulate meter_oracle/config/demo-community.json \
  --keystore "$DEMO_DIR/keys/oracle.json" --password-file "$DEMO_DIR/keys/oracle.password" \
  --outbox "$DEMO_DIR/oracle.sqlite" --rpc-url "$RPC_URL" --metrics-port "$ORACLE_METRICS_PORT" \
  --backfill-hours 12 --speed 360 >"$DEMO_DIR/logs/oracle.log" 2>&1 &
pids+=($!)

echo "== trading bot — log: $DEMO_DIR/logs/bot.log"
setsid python -m webapp bot >"$DEMO_DIR/logs/bot.log" 2>&1 &
pids+=($!)

echo "== dashboard on http://127.0.0.1:${WEB_PORT}  (Ctrl-C stops the demo)"
setsid python -m webapp serve --host 127.0.0.1 --port "$WEB_PORT" &
pids+=($!)
wait -n "${pids[@]}" || true
