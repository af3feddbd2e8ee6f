#!/usr/bin/env bash
# `make demo`: the local chain (state kept in .chain/), the contracts, demo households, the meter oracle on simulated
# meters, the demo households' automatic-trading agents (agents.service: one agent key trading for each household
# within the bounds of the mandate it granted), the auction keeper and the dashboard, all under one supervisor (scripts/supervise.py): a crashed service
# is restarted, Ctrl-C stops everything in reverse order (a second Ctrl-C kills what is left; the chain still saves
# its state), and the next `make demo` resumes the same state. FREE_PORTS=1 picks free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python -m scripts.supervise demo "$@"
