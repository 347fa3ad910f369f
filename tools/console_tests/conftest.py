"""Browser tests of the admin console: pytest-playwright driving Debian's
chromium against the local stack (tools/console-test.sh starts it and sets
STACK_URL and ADMIN_TOKEN). Screenshots go to target/console-screens/."""

import base64
import hashlib
import hmac
import json
import os
import time
import pathlib
import urllib.error
import urllib.request
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCREENS = ROOT / "target" / "console-screens"

# Chromium as this machine runs it: headless, no sandbox (root), and none of
# its background connections (the network is closed to them).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _env(name):
    value = os.environ.get(name)
    if not value:
        raise pytest.UsageError(f"{name} is not set: run the console tests with `make console-test`")
    return value


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def stack_url():
    return _env("STACK_URL")


@pytest.fixture(scope="session")
def admin_token():
    return _env("ADMIN_TOKEN")


class Api:
    """The admin and check APIs, to arrange what a test then does in the browser."""

    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, if_match=None, admin=True):
        headers = {"content-type": "application/json"}
        if admin:
            headers["authorization"] = f"Bearer {self.token}"
        if if_match is not None:
            headers["if-match"] = f'"{if_match}"'
        prefix = "/api/admin/quota" if admin else "/api/quota"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + prefix + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method, path, body=None, **kw):
        status, answer = self.call(method, path, body, **kw)
        assert status < 300, (status, answer)
        return answer

    def record(self, user, cost):
        request = {"userId": user, "cost": cost, "requestId": uuid.uuid4().hex}
        return self.ok("POST", "/usage", request, admin=False)


@pytest.fixture(scope="session")
def api(stack_url, admin_token):
    return Api(stack_url, admin_token)


@pytest.fixture(scope="session")
def mint():
    """A local admin-API token with any subject and roles (HS256, the local secret)."""

    def token(subject, roles):
        encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        claims = {"sub": subject, "roles": roles, "iss": _env("AUTH_ISSUER"), "aud": _env("AUTH_AUDIENCE"), "exp": int(time.time()) + 3600}
        signing = f"{encode({'alg': 'HS256', 'typ': 'JWT'})}.{encode(claims)}"
        mac = hmac.new(_env("AUTH_HS256_SECRET").encode(), signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"

    return token


@pytest.fixture
def unique():
    """A fresh suffix, so tests never meet each other's tiers and users."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def console(page, stack_url, admin_token):
    """A page signed in through the URL `make run` prints; fails on any script error."""
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{stack_url}/console/#token={admin_token}")
    page.get_by_role("heading", name="Tiers", level=1).wait_for()
    yield page
    assert errors == [], errors


def shoot(page, name):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
