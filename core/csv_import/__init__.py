"""CSV upload: sales exports of any POS read by a connection's profile into transfer runs."""
