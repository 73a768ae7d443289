"""Lightspeed Restaurant K-Series: OAuth2, the Financial and Items APIs, and the connector."""
