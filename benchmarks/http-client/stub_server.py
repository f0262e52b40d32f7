"""A llama.cpp-shaped OpenAI-compatible stub for client-side throughput: /v1/models (meta.n_vocab), /tokenize, and
/v1/completions that refuses n > 1 (as llama-server does on that endpoint), sleeps LATENCY_MS per request (the
server's decode time) and answers max_tokens tokens with top-n logprobs in llama.cpp's layout.
Usage: python3 stub_server.py PORT LATENCY_MS [split]

With "split" the headers and the body go out in two writes (what http.server does by default): on a kept-alive
connection the second small write waits for the client's delayed ACK (Nagle), about 40 ms on Linux. A client that
opens a connection per request never waits for it; one that keeps connections alive does."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LATENCY = float(sys.argv[2]) / 1000.0
SPLIT = len(sys.argv) > 3 and sys.argv[3] == "split"
VOCAB = 512


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if SPLIT:
            self.end_headers()
            self.wfile.write(body)
        else:
            self._headers_buffer.append(b"\r\n" + body)   # headers and body in one write
            self.flush_headers()

    def do_GET(self):
        if self.path.startswith("/v1/models"):
            self.reply(200, {"object": "list", "data": [{"id": "stub", "meta": {"n_vocab": VOCAB}}]})
        elif self.path.startswith("/health"):
            self.reply(200, {"status": "ok"})
        else:
            self.reply(404, {"error": {"message": "not found"}})

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path.startswith("/tokenize"):
            text = req.get("content", "")
            self.reply(200, {"tokens": [1] + [(b % 500) + 3 for b in text.encode()]})
            return
        if not self.path.startswith("/v1/completions"):
            self.reply(404, {"error": {"message": "not found"}})
            return
        if req.get("n", 1) > 1:
            self.reply(400, {"error": {"code": 400, "message": "Only one completion choice is allowed",
                                       "type": "invalid_request_error"}})
            return
        time.sleep(LATENCY)
        seed = int(req.get("seed", 0))
        top = int(req.get("logprobs") or 0)
        content = []
        text = []
        for t in range(int(req.get("max_tokens", 16))):
            i = (seed * 31 + t * 7) % (VOCAB - 10) + 3
            text.append("t%d" % i)
            content.append({"id": i, "token": "t%d" % i, "bytes": list(("t%d" % i).encode()), "logprob": -0.5,
                            "top_logprobs": [{"id": i + r, "token": "t%d" % (i + r), "bytes": list(("t%d" % (i + r)).encode()),
                                              "logprob": -0.5 - 1.5 * r} for r in range(top)]})
        self.reply(200, {"id": "cmpl-stub", "object": "text_completion", "model": "stub",
                         "choices": [{"index": 0, "text": "".join(text), "finish_reason": "length",
                                      "logprobs": {"content": content}}],
                         "usage": {"completion_tokens": len(content)}})


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
