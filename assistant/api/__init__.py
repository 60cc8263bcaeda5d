"""ALLy's HTTP transport: a FastAPI service over the assistant core, plus the web chat page.

`create_app(settings, assistant=None)` in `assistant.api.app` builds the application; `ally serve`
(`assistant.cli.serve.serve`) runs it under uvicorn. Nothing in the core imports this package.
"""
