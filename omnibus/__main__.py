"""``python -m omnibus``: the same command as the installed ``omnibus`` script."""

from omnibus.entry import main

main()
