#!/usr/bin/env bash
# The README's first command: a restaurant's catalog, its till mappings and one day of sales,
# turned into ledger movements on the embedded SQLite database (./stockpot.db).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export LOG_LEVEL=${LOG_LEVEL:-WARNING}

stockpot db upgrade
stockpot catalog import "$here/catalog.yaml"
stockpot mappings import "$here/mappings.yaml"
stockpot transfer run --location "Main room" --date 2026-11-27 --lines "$here/sales-2026-11-27.json"
echo
echo "Stock per storage unit (base units):"
stockpot ledger balances --company "Trattoria Esempio"
echo
echo "Run it again: the same sales and mappings change nothing."
stockpot transfer run --location "Main room" --date 2026-11-27 --lines "$here/sales-2026-11-27.json"
