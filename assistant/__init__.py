"""ALLy's assistant core (retrieval, cited answers, abstention, conversations, pathway checker) and
its transports (CLI, HTTP API, Slack). Import `assistant.service.Assistant` for the public API."""
