"""Mail: Jinja2 templates, pure message builders, the outbox and SMTP delivery."""
