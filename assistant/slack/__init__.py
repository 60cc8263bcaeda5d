"""ALLy's Slack transport: answers in threads with Block Kit citations, `/ally` (questions and the
pathway check), feedback buttons, over Socket Mode (`ally slack`) or HTTP (`POST /slack/events` in
`ally serve`).

Modules: `app` (the bolt App and its handlers), `blocks` (pure Block Kit rendering), `commands`
(parsing what people type), `caches` (dedupe and the answers kept for sharing), `redact` (no
message text in logs), `http` (the FastAPI mount), `socket` (Socket Mode); `ally slack` is
`assistant.cli.slack`. The app manifest (`manifest.yaml`) lives beside these modules. Rate limits
and body limits are `assistant.guards`, shared with the HTTP API.
Importing this package imports nothing heavy; import the modules you need.
"""
