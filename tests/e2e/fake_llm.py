"""A local stand-in for a remote OpenAI-compatible chat endpoint (no LLM can run here).

It streams a fixed answer as chat-completion chunks (server-sent events), which is what
``langchain-openai``'s ``ChatOpenAI.stream`` reads. Only the remote LLM is replaced: the app, its
checks and the browser are real.
"""

from __future__ import annotations

import http.server
import json
import threading
import time


class FakeChatEndpoint:
    """``POST /v1/chat/completions`` answering ``reply`` a few words at a time."""

    def __init__(self, reply: str, *, delay: float = 0.15) -> None:
        self.reply = reply
        self.delay = delay
        self.requests: list[dict] = []
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # the stdlib's signature
                pass

            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                endpoint.requests.append(body)
                words = endpoint.reply.split(" ")
                pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                if not body.get("stream"):
                    self._json({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                                "choices": [{"index": 0, "finish_reason": "stop",
                                             "message": {"role": "assistant", "content": endpoint.reply}}]})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for piece in pieces:
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(endpoint.delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _json(self, payload):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)

    def __enter__(self) -> FakeChatEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
