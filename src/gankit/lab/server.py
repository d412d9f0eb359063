"""The lab's web server: one page, its static files, a JSON control endpoint and a stream of frames.

Starlette on uvicorn (the ``lab`` extra: ``pip install gankit[lab]``): Starlette is small,
typed and well kept, its ``StreamingResponse`` serves server-sent events without a websocket
layer, and its ``TestClient`` tests the whole API in-process. Both are imported inside the
functions here, so the base install never needs them.

Routes: ``GET /`` the page; ``GET /static/<file>`` its script and style; ``GET /api/state``
the options and current controls; ``POST /api/control`` one action (JSON; errors come back as
``{"ok": false, "error": ...}`` with status 400, never as a crash); ``GET /api/stream?fps=N``
server-sent events: ``data`` (the real points, when the data change) and ``frame`` messages.
"""

from __future__ import annotations

import asyncio
import json
from importlib import resources
from typing import Any

from ..errors import GankitError
from .controls import MAX_BODY, check_fps, lab_data_sources, lab_objectives, parse_message

__all__ = ["build_app", "STATIC_FILES", "serve"]

#: the files the page is made of (nothing else is served)
STATIC_FILES = {"index.html": "text/html; charset=utf-8", "lab.js": "text/javascript; charset=utf-8",
                "lab.css": "text/css; charset=utf-8"}


def _static(name: str) -> bytes:
    return resources.files("gankit.lab").joinpath("static", name).read_bytes()


def build_app(lab: Any) -> Any:
    """The Starlette application serving ``lab`` (a :class:`~gankit.lab.session.LabSession`)."""
    from starlette.applications import Starlette  # the lab extra, loaded only by `gankit lab`
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    def page(request: Request) -> Response:
        return Response(_static("index.html"), media_type=STATIC_FILES["index.html"],
                        headers={"Cache-Control": "no-store"})

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return JSONResponse({"ok": False, "error": "not found"}, status_code=404)
        return Response(_static(name), media_type=STATIC_FILES[name], headers={"Cache-Control": "no-store"})

    def state(request: Request) -> Response:
        return JSONResponse({"ok": True, "controls": lab.controls(), "step": lab.step, "playing": lab.playing,
                             "objectives": lab_objectives(), "data_sources": list(lab_data_sources()),
                             "events": list(lab.events)[-8:], "runs_root": str(lab.runs_root)})

    async def control(request: Request) -> Response:
        body = await request.body()
        try:
            if len(body) > MAX_BODY:
                raise GankitError(f"message too large ({len(body)} bytes; at most {MAX_BODY})")
            try:
                msg = json.loads(body)
            except (ValueError, RecursionError):
                raise GankitError("the message is not valid JSON") from None
            action = parse_message(msg)
        except GankitError as exc:
            lab.say("error", str(exc))
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=400)
        reply = await run_in_threadpool(lab.submit, action)
        return JSONResponse(reply, status_code=200 if reply.get("ok") else 400)

    async def stream(request: Request) -> Response:
        try:
            fps = check_fps(float(request.query_params.get("fps", "10")))
            limit = request.query_params.get("frames")  # end the stream after this many frames (scripts, tests)
            limit = int(limit) if limit is not None else None
            if limit is not None and not 1 <= limit <= 10**6:
                raise ValueError("frames must be in [1, 1000000]")
        except (GankitError, ValueError) as exc:
            return JSONResponse({"ok": False, "error": f"bad stream parameters: {exc}"}, status_code=400)
        return StreamingResponse(_events(lab, request, fps, limit), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    routes = [Route("/", page), Route("/static/{name}", static), Route("/api/state", state),
              Route("/api/control", control, methods=["POST"]), Route("/api/stream", stream)]
    app = Starlette(routes=routes)
    app.state.lab = lab
    return app


async def _events(lab: Any, request: Any, fps: float, limit: int | None = None) -> Any:
    """Server-sent events: the data message when the data change, then each new frame, at most ``fps``/s.

    While nothing changes (paused), the current frame is sent again once a second, so that a page
    (or a stream limited to ``limit`` frames) never waits on a silent connection.
    """
    views, sent_data, sent_frame, n, last = lab.views, -1, -1, 0, 0.0
    views.dirty = True
    loop = asyncio.get_running_loop()
    while not lab.stopped.is_set():
        views.watch(fps)
        lab.wake()
        if views.data_version != sent_data and views.data_json:
            sent_data = views.data_version
            yield f"event: data\ndata: {views.data_json}\n\n"
        now = loop.time()
        if views.frame_json and (views.frame_id != sent_frame or now - last >= 1.0):
            sent_frame, last = views.frame_id, now
            yield f"event: frame\ndata: {views.frame_json}\n\n"
            n += 1
            if limit is not None and n >= limit:
                yield "event: end\ndata: {}\n\n"
                return
        if await request.is_disconnected():
            return
        await asyncio.sleep(1.0 / fps)


def serve(lab: Any, host: str, port: int, log_level: str = "warning") -> None:
    """Run the server until Ctrl-C (uvicorn handles SIGINT); the training thread is stopped after."""
    import uvicorn  # the lab extra

    config = uvicorn.Config(build_app(lab), host=host, port=port, log_level=log_level, access_log=False,
                            timeout_graceful_shutdown=1)
    try:
        uvicorn.Server(config).run()
    finally:
        lab.stop()

