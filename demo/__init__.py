"""``omnibus demo``: the whole middleware on a local broker, fed by scripted customer journeys."""
