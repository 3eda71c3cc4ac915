"""Routes: one module per area; each route loads, checks permission, acts, renders."""
