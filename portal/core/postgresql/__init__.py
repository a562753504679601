"""PostgreSQL with every wait for the server bounded (``ENGINE = "portal.core.postgresql"``)."""
