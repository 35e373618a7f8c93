"""A target for probe benchmarks: answers every GET after a fixed delay, in its own process.

Run as `python -m tests.benchmarks.probe_target_server DELAY_MS`; prints its port once
it listens, so the benchmark's client and this server never share a CPU's GIL.
"""

import asyncio
import socket
import sys

from aiohttp import web


async def main(delay_seconds: float) -> None:
    async def answer(request):
        await asyncio.sleep(delay_seconds)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
    await web.SockSite(runner, sock).start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) / 1000))
