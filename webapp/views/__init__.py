"""Server-rendered pages, one blueprint per area."""
