"""Reading a JSON WebSocket conversation (the chat widget's, the desktop's)."""

import asyncio
import json


async def next_frame(ws, type_: str, timeout: float = 30) -> dict:
    """The next frame of `type_`, skipping others (queue updates, transcript, messages)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["type"] == type_:
            return frame
