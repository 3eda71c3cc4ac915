"""The read side: everything people read about items (filters, views, timeline words, figures, due rules).

CLI, web pages, the API, digests and exports read from here, so a count and the list it links to,
or a rule shown on two pages, are worked out once. See docs/read.md for where each piece lives.
"""
