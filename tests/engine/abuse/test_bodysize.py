"""Body size limit: declared Content-Length and chunked/streamed bodies, larger limits per path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from engine.abuse.bodysize import BodySizeLimit


def app(read: list[int]) -> FastAPI:
    api = FastAPI()

    @api.post("/small")
    async def small(payload: dict) -> dict:
        return {"keys": len(payload)}

    @api.post("/raw")
    async def raw(request: Request) -> dict:
        body = await request.body()
        read.append(len(body))
        return {"bytes": len(body)}

    @api.post("/big")
    async def big(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    api.add_middleware(BodySizeLimit, max_bytes=1024, by_path={"/big": 8192})
    return api


def client(read: list[int]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app(read)), base_url="http://t")


async def chunks(total: int, size: int = 256) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


async def test_declared_length_over_the_limit_is_refused_unread() -> None:
    read: list[int] = []
    async with client(read) as http:
        reply = await http.post("/raw", content=b"x" * 1025)
        assert (reply.status_code, reply.json()) == (413, {"detail": "request_too_large"})
        assert read == []  # the route never ran
        assert (await http.post("/raw", content=b"x" * 1024)).json() == {"bytes": 1024}


async def test_a_streamed_body_is_cut_when_it_passes_the_limit() -> None:
    read: list[int] = []
    async with client(read) as http:
        reply = await http.post("/raw", content=chunks(5000))  # chunked: no Content-Length
        assert "content-length" not in reply.request.headers
        assert (reply.status_code, reply.json()) == (413, {"detail": "request_too_large"})
        assert read == []
        ok = await http.post("/raw", content=chunks(1000))
        assert ok.json() == {"bytes": 1000}


async def test_a_json_route_answers_413_not_a_parse_error() -> None:
    async with client([]) as http:
        reply = await http.post("/small", content=chunks(4096), headers={"content-type": "application/json"})
        assert reply.status_code == 413


async def test_a_lying_small_content_length_does_not_help() -> None:
    """A client declaring less than it sends is still counted byte by byte."""
    read: list[int] = []
    async with client(read) as http:
        reply = await http.post("/raw", content=chunks(3000), headers={"content-length": "10"})
        assert reply.status_code == 413 and read == []


async def test_larger_limit_where_a_route_needs_it() -> None:
    async with client([]) as http:
        assert (await http.post("/big", content=b"x" * 8000)).json() == {"bytes": 8000}
        assert (await http.post("/big", content=chunks(8000))).json() == {"bytes": 8000}
        assert (await http.post("/big", content=b"x" * 8193)).status_code == 413
