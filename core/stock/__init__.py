"""Stock that means something: counts, receipts, waste, moves, their corrections, costs, and
actual against theoretical usage, on the same immutable ledger as the POS deductions.

The rules (README "Stock" tells them with a worked example):

- Every act is a **posting** (``StockPosting``) attributed to who posted it; its movements
  are never edited. A **correction** reverses a whole posting (new movements that negate it).
- A **count** of a storage unit on business date D is the stock at the close of D: after every
  movement dated D or earlier. It stores the counted quantity and posts, per counted
  ingredient, an ``ADJUSTMENT`` of counted − balance just before it. A partial count counts only
  what it lists. One live count per (storage unit, ingredient, date).
- **A count fixes the balance at its moment.** Whatever is posted later with a date at or
  before a live count's date (a POS day rerun, a back-dated receipt, waste, move or count, a
  correction) is absorbed by the first such count of the same storage unit and ingredient: in
  the same transaction an ``ADJUSTMENT`` of the opposite amount is added to that count
  (``count_id``). So balances after the count stay the counted quantity, and the rerun changes
  the variance of the period it falls in, not the balances after it (``absorb``).
- **Moves** post ``TRANSFER_OUT`` and ``TRANSFER_IN`` legs of the same quantity in one
  transaction: they always balance.
- **Costs** (``costs``): an ingredient's cost per base unit comes from the catalog and then
  from the latest receipt that gives a unit cost (last purchase price, not a weighted average:
  predictable, and what a supplier's invoice says). Money is ``Decimal`` in the company's
  currency.
- **Variance** (``variance``) of a storage unit between two counts.
"""
