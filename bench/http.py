"""A minimal HTTP/1.1 keep-alive client for POSTing GraphQL, cheap enough not to skew figures.

On two cores the load generator shares the CPU with the servers it measures. httpx spent
about 10 ms of CPU per request in a 200-connection rush (as much as the API itself), so
the runner speaks HTTP/1.1 over asyncio streams directly: one request per connection at a
time, idle connections reused, Content-Length or chunked bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HttpError(Exception):
    """The server closed the connection or answered with something this client cannot read."""


class _Stale(HttpError):
    """A reused connection was closed before any response: safe to send again elsewhere."""


class HttpClient:
    """Keep-alive connections per (host, port); `post` returns (status, body bytes)."""

    def __init__(self, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self.idle: dict[tuple[str, int], list[Connection]] = {}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        head = (
            f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            + "\r\n"
        ).encode() + body
        pool = self.idle.setdefault((host, port), [])
        while pool:  # a reused connection may have been closed by the server's keep-alive timeout
            connection = pool.pop()
            try:
                return await asyncio.wait_for(self._exchange(connection, head, pool), self.timeout)
            except _Stale:
                continue
        connection = await asyncio.open_connection(host, port)
        return await asyncio.wait_for(self._exchange(connection, head, pool), self.timeout)

    async def _exchange(
        self, connection: Connection, request: bytes, pool: list[Connection]
    ) -> tuple[int, bytes]:
        reader, writer = connection
        try:
            writer.write(request)
            status_line = await reader.readline()
            if not status_line:
                raise _Stale("connection closed before the response")
            status = int(status_line.split()[1])
            length, chunked, close = 0, False, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"connection":
                    close = b"close" in value.lower()
            body = await self._chunked(reader) if chunked else await reader.readexactly(length)
        except HttpError:
            writer.close()
            raise
        except ConnectionResetError as exc:  # reset before any byte of a response came back
            writer.close()
            raise _Stale(str(exc)) from exc
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            writer.close()
            raise HttpError(str(exc)) from exc
        except BaseException:
            writer.close()
            raise
        if close:
            writer.close()
        else:
            pool.append(connection)
        return status, body

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readline()
        return b"".join(parts)

    async def close(self) -> None:
        for pool in self.idle.values():
            for _, writer in pool:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
        self.idle.clear()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
