#!/usr/bin/env python3
"""A webhook receiver that answers slowly (issue 14's benchmark): every POST is answered 200 after
DELAY_MS milliseconds; counts what it received. Usage: slow_receiver.py PORT DELAY_MS"""
import asyncio
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 19999
DELAY = (int(sys.argv[2]) if len(sys.argv) > 2 else 200) / 1000.0
received = 0


async def handle(reader, writer):
    global received
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            received += 1
            await asyncio.sleep(DELAY)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def report():
    while True:
        await asyncio.sleep(10)
        print(f"received {received}", flush=True)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    asyncio.create_task(report())
    async with server:
        await server.serve_forever()


asyncio.run(main())
