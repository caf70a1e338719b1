"""HTML pages: the front page, the query page, entity pages (to be filled in)."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"])


@router.get("/query", name="query_page", response_class=HTMLResponse, include_in_schema=False)
async def query_page() -> str:
    return "<!doctype html><title>SPARQL query</title><p>Query page</p>"
