"""The supervision desk: web pages and the JSON API (issue 5)."""
