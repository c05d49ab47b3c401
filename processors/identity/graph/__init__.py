"""The identity graph, partitioned by node key, as pure message handlers.

Nodes are identifiers (key ``TYPE:value``) and customers (key ``cus_...``), each owned by the partition
of its key. Handlers turn one message and one node's state into the node's new state and outputs:
messages to other nodes and decisions (announcements) as plain data. See ``protocol.md`` beside this
file for the protocol and why it converges.
"""
