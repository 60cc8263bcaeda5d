"""Tests of the Slack transport (assistant/slack) against a fake Slack Web API and the shared fake core."""
