"""POS connectors: one small protocol (``core.pos.base``) that Lightspeed, SIDES and CSV
implement, the HTTP plumbing they share, and the services that sync and fetch through them."""
