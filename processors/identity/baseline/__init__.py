"""The single-writer baseline resolver (#9 build 4): the simplest correct resolver, to beat.

One partition decides every event in order, in memory, with the graph's own handlers and merge rules
(``rules.LinkPolicy``, the Fellegi–Sunter matcher, limits, ``shared_after``): no graph topic between
nodes. Profiles and the contact stream's re-keying stay partitioned by customer id. ``resolver`` is the
decision logic; ``worker`` runs it through Kafka.
"""
