"""An API's docs (Swagger UI) and its OpenAPI schema, served from our own origin.

The pages' session cookie lives on this origin, so nothing the docs run may come from anywhere else:
Swagger UI's files come from the `swagger-ui-bundle-v2` package and are served at
`<prefix>/docs/assets/`, the page starts it with a script of ours (no inline script), and the page
carries a Content-Security-Policy of its own that allows only this origin. An app may keep its docs
for some callers (`access`): a refusal of the schema is the envelope's 401/403; a browser refused the
docs page is sent to `sign_in` when one is given.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mla_core.core.errors import AuthenticationError, NotFoundError

#: Swagger UI runs from this origin only, with no inline script or style (tests/browser/test_api_docs_page.py
#: opens an operation and the schemas under it and sees no violation).
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)
_START = Path(__file__).with_name("api_docs.js")  # starts Swagger UI on the schema the page names
_ASSETS = {  # what the page loads, by the name it is served under
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "api-docs.js": "text/javascript; charset=utf-8",
}
_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=86400"}

Access = Callable[[Request], Awaitable[object]]


@lru_cache(maxsize=len(_ASSETS))
def _asset(name: str) -> bytes:
    """A file the docs load, read once per process and always sent whole (no ranges: Starlette would
    answer a bad one in plain text, outside the envelope)."""
    if name == "api-docs.js":
        return _START.read_bytes()
    from swagger_ui_bundle import swagger_ui_path  # only a docs request pays for finding the package

    return (Path(str(swagger_ui_path)) / name).read_bytes()


def _page(title: str, assets: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{html.escape(openapi_url)}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/api-docs.js"></script>
</body>
</html>
"""


def add_docs(app: FastAPI, *, prefix: str = "", access: Access | None = None, sign_in: str | None = None) -> None:
    """`<prefix>/docs`, `<prefix>/openapi.json` and the docs' assets on `app`; `access(request)` raises
    our `AppError` for a caller who may not read them (nobody is refused without it)."""
    docs_url, openapi_url, assets = f"{prefix}/docs", f"{prefix}/openapi.json", f"{prefix}/docs/assets"

    async def allowed(request: Request) -> None:
        if access is not None:
            await access(request)

    @app.get(openapi_url, include_in_schema=False, dependencies=[Depends(allowed)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(docs_url, include_in_schema=False)
    async def docs(request: Request) -> Response:
        try:
            await allowed(request)
        except AuthenticationError:
            if sign_in is None:
                raise
            return RedirectResponse(f"{sign_in}?next={quote(docs_url)}", status_code=303)
        page = HTMLResponse(_page(f"{app.title} — docs", assets, openapi_url))
        page.headers.update({**_HEADERS, "Cache-Control": "no-store", "Content-Security-Policy": DOCS_CSP})
        page.headers["Referrer-Policy"] = "same-origin"
        return page

    @app.get(f"{assets}/{{name}}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in _ASSETS:
            raise NotFoundError("no such file")
        return Response(_asset(name), media_type=_ASSETS[name], headers=_HEADERS)
