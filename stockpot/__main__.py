"""``python -m stockpot`` is the ``stockpot`` command."""

from stockpot.bot.cli import main

main()
