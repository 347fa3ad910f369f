"""A stand-in OpenID Connect provider for the console's sign-in test: the
authorization endpoint redirects back with a code bound to the PKCE
challenge; the token endpoint (cross-origin, as Cognito's is) gives the ID
token only for the verifier that matches the challenge (S256)."""

import base64
import hashlib
import http.server
import json
import secrets
import threading
import urllib.parse


class FakeIdp:
    def __init__(self, id_token):
        self.id_token = id_token
        self.codes = {}  # code -> (challenge, redirect_uri, client_id)
        self.requests = []
        idp = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                idp.requests.append(("authorize", q))
                if url.path != "/authorize" or q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
                    self.send_error(400)
                    return
                code = secrets.token_urlsafe(16)
                idp.codes[code] = (q["code_challenge"], q["redirect_uri"], q["client_id"])
                back = q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
                self.send_response(302)
                self.send_header("location", back)
                self.end_headers()

            def cors(self):
                self.send_header("access-control-allow-origin", "*")
                self.send_header("access-control-allow-headers", "content-type")

            def do_OPTIONS(self):
                self.send_response(204)
                self.cors()
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                form = dict(urllib.parse.parse_qsl(body))
                idp.requests.append(("token", form))
                challenge, redirect_uri, client_id = idp.codes.pop(form.get("code"), (None, None, None))
                digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
                ok = (
                    form.get("grant_type") == "authorization_code"
                    and challenge == expected
                    and redirect_uri == form.get("redirect_uri")
                    and client_id == form.get("client_id")
                )
                answer = {"id_token": idp.id_token, "access_token": "opaque", "token_type": "Bearer"} if ok else {"error": "invalid_grant"}
                raw = json.dumps(answer).encode()
                self.send_response(200 if ok else 400)
                self.cors()
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
