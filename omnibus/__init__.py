"""The top of the house: composition of every command, adapter, processor and the demo.

``bus`` (plumbing) and ``schemas`` (the contract) import nothing from here or from ``adapters``,
``processors`` and ``demo``; this package is the only place that knows all of them.
"""
