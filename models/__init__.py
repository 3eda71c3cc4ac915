"""SQLModel tables, the item lifecycle, deadline maths, queries and actions.

Importing the package loads no table (see models/schema.py for all of them).
"""
