"""ALLy's Slack transport: answers in threads with Block Kit citations, `/ally` (questions and the
pathway check), feedback buttons, over Socket Mode (`ally slack`) or HTTP (`POST /slack/events` in
`ally serve`).

Modules: `app` (the bolt App and its handlers), `blocks` (pure Block Kit rendering), `commands`
(parsing what people type), `limits` (dedupe, rate limit, caches), `redact` (no message text in
logs), `http` (the FastAPI mount), `socket` (Socket Mode), `cli` (`ally slack`).
Importing this package imports nothing heavy; import the modules you need.
"""
