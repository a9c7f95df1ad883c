#!/usr/bin/python3
"""The bench registry's front door: TLS and plain HTTP on one port.

usage: registry-front.py LISTEN_PORT BACKEND_PORT CA_FILE  (both on 127.0.0.1)

The registry (BACKEND_PORT) speaks TLS only. A TLS client (first byte 0x16, a handshake
record) is piped through untouched, so it sees the registry's own certificate. Anything
else is taken for plain HTTP and piped to the registry over a TLS connection made here.

Why: dockerd takes every registry on 127.0.0.0/8 for an insecure one, and after a 401 on
https it retries the next endpoint, plain http on the same port. Without this front that
retry meets a TLS server and the pull fails with "connection reset by peer"; with it the
retry meets the registry too, and the pull fails with the registry's answer
("no basic auth credentials", "unauthorized: ...").
"""
import asyncio
import ssl
import sys

HOST = "127.0.0.1"


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError, ssl.SSLError):
        pass


async def handle(client_reader, client_writer, backend_port, tls):
    backend_writer = None
    try:
        first = await client_reader.read(1)
        if not first:
            return
        if first[0] == 0x16:
            backend_reader, backend_writer = await asyncio.open_connection(HOST, backend_port)
        else:
            backend_reader, backend_writer = await asyncio.open_connection(
                HOST, backend_port, ssl=tls, server_hostname=HOST)
        backend_writer.write(first)
        await asyncio.gather(pipe(client_reader, backend_writer),
                             pipe(backend_reader, client_writer))
    except (ConnectionError, OSError, ssl.SSLError):
        pass
    finally:
        for w in (client_writer, backend_writer):
            if w is not None:
                try:
                    w.close()
                except Exception:
                    pass


async def main():
    listen_port, backend_port, ca_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    tls = ssl.create_default_context(cafile=ca_file)
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, backend_port, tls), HOST, listen_port, reuse_address=True)
    print(f"registry front on {HOST}:{listen_port} -> {HOST}:{backend_port} (TLS)", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
