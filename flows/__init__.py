"""Prefect flows: thin orchestration of models/ and notifications/, one file a flow."""
