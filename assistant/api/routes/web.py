"""GET /: the web chat page, plus the OpenAPI page at /docs served from local assets."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(str(resources.files("assistant.web") / "static"))

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def swagger_assets() -> Path | None:
    """The folder of a locally installed Swagger UI (package swagger-ui-bundle-v2), if any."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    path = Path(str(swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI from local files when installed (offline), else FastAPI's default."""
    openapi_url = request.app.openapi_url or "/openapi.json"
    if request.app.state.swagger_local:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title="ALLy API",
            swagger_js_url="/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/swagger-ui/favicon-32x32.png",
        )
    return get_swagger_ui_html(openapi_url=openapi_url, title="ALLy API")
