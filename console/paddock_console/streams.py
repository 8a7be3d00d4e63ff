"""A service's logs streamed to a page as the engine writes them."""

from __future__ import annotations

import asyncio
import threading


def closer(response, streams, stop):
    """Close the engine's log response and free its stream's place, once, whichever comes first:
    the generator's end or the response's background task (a page gone before the first line).
    Never called on the event loop: closing waits for the reader's read in progress to return
    (the response's buffer lock), which a quiet service can hold for the client's 10 s timeout."""
    done = threading.Lock()

    def close():
        stop.set()
        if done.acquire(blocking=False):
            try:
                response.close()
            finally:
                streams.release()
    return close


async def pump(lines, close, stop):
    """Yield what a thread reads from the engine's log stream. When the page goes (the generator
    is closed), the reader is told to stop and the engine's response is closed from another
    thread, so that the event loop never waits on the reader."""
    loop, queue = asyncio.get_running_loop(), asyncio.Queue(maxsize=1000)
    dropped = [0]

    def put(item):
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:  # a reader slower than the service: lines are dropped, and said so
            dropped[0] += 1

    def read():
        try:
            for chunk in lines:
                if stop.is_set():
                    break
                loop.call_soon_threadsafe(put, chunk)
        except Exception:  # noqa: BLE001, S110 - the response was closed, or the engine went
            pass
        finally:
            if not stop.is_set():
                loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="logs", daemon=True).start()
    try:
        while True:
            chunk = await queue.get()
            if chunk is None:
                return
            if dropped[0]:
                yield f"[paddock console: {dropped[0]} lines dropped, the page read too slowly]\n".encode()
                dropped[0] = 0
            yield chunk
    finally:
        stop.set()
        threading.Thread(target=close, name="logs-close", daemon=True).start()
