"""The single-writer baseline resolver (#9 build 4): the simplest correct resolver, to beat.

One partition decides every event in order with a plain union-find over customer ids and the graph's own
merge rules (``rules.LinkPolicy``, the Fellegi–Sunter matcher, the per-customer limits by rank and the
``shared_after`` threshold, the saga's phase-2 plan). Profiles and the contact stream's re-keying stay
partitioned by customer id. ``resolver`` is the pure decision logic; ``worker`` runs it through Kafka.
"""
