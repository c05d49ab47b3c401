"""``omnibus demo``: the whole middleware on a local broker, fed by scripted customer journeys."""

COMPONENT = "demo"  # the demo process's lines and metrics, where no component of its own names them (``bus.logging``)
