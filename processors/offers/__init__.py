"""One message on every channel: offers defined once, kept in step per customer across channels (issue #11)."""
