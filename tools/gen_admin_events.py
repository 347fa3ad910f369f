"""Writes the admin API's sample Lambda events (API Gateway HTTP API,
payload v2) into events/{tiers,assignments,overrides,users,events,prices,groups}/.

Tokens are signed HS256 with the local development secret (the one `make run`
uses; see tools/local-auth.env) and expire in 2100, so the fixtures never rot. Each
fixture is run by a test in its function's crate. Regenerate with
`python3 tools/gen_admin_events.py` after changing this file.
"""

import base64
import hashlib
import hmac
import json
import os


def local_auth() -> dict[str, str]:
    path = os.path.join(os.path.dirname(__file__), "local-auth.env")
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


SECRET = local_auth()["AUTH_HS256_SECRET"].encode()
ISSUER = local_auth()["AUTH_ISSUER"]
AUDIENCE = local_auth()["AUTH_AUDIENCE"]
EXP_2100 = 4102444800
ROOT = os.path.join(os.path.dirname(__file__), "..", "events")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub: str, roles: list[str], **extra) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": EXP_2100, "roles": roles, **extra}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(sig)


ADMIN = "Bearer " + token("admin@uni.edu", ["admin"], email="admin@uni.edu")
STAFF = "Bearer " + token("staff@uni.edu", ["Staff"])
EXPIRED = "Bearer " + token("admin@uni.edu", ["admin"], exp=1700000000)


def event(method, path, route, body=None, query="", auth=ADMIN, headers=None, path_params=None):
    h = {"content-type": "application/json", "host": "api.example.com", "user-agent": "admin-console/1.0"}
    if auth:
        h["authorization"] = auth
    h.update(headers or {})
    e = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": h,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                     "userAgent": "admin-console/1.0"},
            "requestId": "fixture", "routeKey": f"{method} {route}", "stage": "$default",
            "time": "27/Nov/2026:10:00:00 +0000", "timeEpoch": 1795777200000,
        },
        "isBase64Encoded": False,
    }
    if query:
        # API Gateway joins a repeated parameter's values with commas here;
        # rawQueryString keeps them apart (what the functions read).
        params = {}
        for p in query.split("&"):
            k, v = p.split("=", 1)
            params[k] = params[k] + "," + v if k in params else v
        e["queryStringParameters"] = params
    if path_params:
        e["pathParameters"] = path_params
    if body is not None:
        e["body"] = body if isinstance(body, str) else json.dumps(body)
    return e


def write(function, name, e):
    d = os.path.join(ROOT, function)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        json.dump(e, f, indent=2)
        f.write("\n")


T = "/api/admin/quota/tiers"
TR = T + "/{tierId}"
basic = {"tierId": "basic", "tierName": "Basic", "monthlyCostLimit": "10", "dailyCostLimit": "2"}
write("tiers", "create.json", event("POST", T, T, basic))
write("tiers", "create-invalid.json", event("POST", T, T, {"tierId": "bad#id", "tierName": "", "monthlyCostLimit": -5, "softLimitPercentage": 101}))
write("tiers", "create-malformed.json", event("POST", T, T, '{"tierId": "basic", '))
write("tiers", "create-unknown-field.json", event("POST", T, T, {**basic, "color": "red"}))
write("tiers", "create-no-token.json", event("POST", T, T, basic, auth=None))
write("tiers", "create-expired-token.json", event("POST", T, T, basic, auth=EXPIRED))
write("tiers", "create-not-admin.json", event("POST", T, T, basic, auth=STAFF))
rationed = {"tierId": "rationed", "tierName": "Rationed premium", "unlimited": True,
            "modelLimits": [{"limitId": "premium", "models": ["anthropic/claude-opus*", "openai/o3"],
                             "dailyRequestLimit": 20, "monthlyCostLimit": "25", "suggestModel": "anthropic/claude-haiku-4-5"}]}
write("tiers", "create-model-limits.json", event("POST", T, T, rationed))
write("tiers", "create-model-limits-overlap.json", event("POST", T, T, {**rationed, "modelLimits": [
    *rationed["modelLimits"], {"limitId": "opus", "models": ["anthropic/claude-opus-4-1"], "dailyRequestLimit": 5}]}))
write("tiers", "create-shadow.json", event("POST", T, T, {"tierId": "students", "tierName": "Students", "dailyCostLimit": "5",
                                                     "shadow": {"dailyCostLimit": "2", "softLimitPercentage": 75}}))
write("tiers", "create-shadow-empty.json", event("POST", T, T, {"tierId": "students", "tierName": "Students", "dailyCostLimit": "5",
                                                           "shadow": {"actionOnLimit": "warn"}}))
write("tiers", "update-shadow-discard.json", event("PATCH", T + "/students", TR, {"shadow": None},
                                                headers={"if-match": '"1"'}, path_params={"tierId": "students"}))
write("tiers", "list.json", event("GET", T, T, query="limit=1"))
write("tiers", "list-enabled.json", event("GET", T, T, query="enabled=true"))
write("tiers", "list-bad-limit.json", event("GET", T, T, query="limit=1000"))
write("tiers", "get.json", event("GET", T + "/basic", TR, path_params={"tierId": "basic"}))
write("tiers", "get-missing.json", event("GET", T + "/nope", TR, path_params={"tierId": "nope"}))
write("tiers", "update.json", event("PATCH", T + "/basic", TR, {"tierName": "Basic plus", "dailyCostLimit": None},
                                    headers={"if-match": '"1"'}, path_params={"tierId": "basic"}))
write("tiers", "update-stale.json", event("PATCH", T + "/basic", TR, {"enabled": False},
                                          headers={"if-match": '"1"'}, path_params={"tierId": "basic"}))
write("tiers", "delete-in-use.json", event("DELETE", T + "/basic", TR, path_params={"tierId": "basic"}))
write("tiers", "delete.json", event("DELETE", T + "/basic", TR, path_params={"tierId": "basic"}))

A = "/api/admin/quota/assignments"
AR = A + "/{assignmentId}"
write("assignments", "create-default.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "default_tier"}))
write("assignments", "create-direct.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "direct_user", "userId": "u1"}))
write("assignments", "create-role.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "jwt_role", "jwtRole": "Faculty", "priority": 250}))
write("assignments", "create-direct-twice.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "direct_user", "userId": "u1"}))
write("assignments", "create-unknown-tier.json", event("POST", A, A, {"tierId": "ghost", "assignmentType": "default_tier"}))
write("assignments", "create-missing-user.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "direct_user"}))
write("assignments", "create-negative-priority.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "jwt_role", "jwtRole": "X", "priority": -1}))
write("assignments", "create-role-shadow.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "jwt_role", "jwtRole": "Chem", "mode": "shadow"}))
write("assignments", "create-direct-shadow.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "direct_user", "userId": "u2", "mode": "shadow"}))
write("assignments", "list-shadow.json", event("GET", A, A, query="mode=shadow"))
write("assignments", "list-bad-mode.json", event("GET", A, A, query="mode=preview"))
write("assignments", "list.json", event("GET", A, A, query="limit=2"))
write("assignments", "list-by-role.json", event("GET", A, A, query="jwtRole=Faculty"))
write("assignments", "list-by-user.json", event("GET", A, A, query="userId=u1"))
write("assignments", "list-unknown-filter.json", event("GET", A, A, query="color=red"))
write("assignments", "get.json", event("GET", A + "/ASSIGNMENT_ID", AR, path_params={"assignmentId": "ASSIGNMENT_ID"}))
write("assignments", "get-missing.json", event("GET", A + "/no-such-id", AR, path_params={"assignmentId": "no-such-id"}))
write("assignments", "update.json", event("PATCH", A + "/ASSIGNMENT_ID", AR, {"priority": 310, "enabled": False},
                                          headers={"if-match": '"1"'}, path_params={"assignmentId": "ASSIGNMENT_ID"}))
write("assignments", "update-change-type.json", event("PATCH", A + "/ASSIGNMENT_ID", AR, {"assignmentType": "jwt_role"},
                                                      path_params={"assignmentId": "ASSIGNMENT_ID"}))
write("assignments", "delete.json", event("DELETE", A + "/ASSIGNMENT_ID", AR, path_params={"assignmentId": "ASSIGNMENT_ID"}))
write("assignments", "list-not-admin.json", event("GET", A, A, auth=STAFF))
write("assignments", "create-regex-domain.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "email_domain",
                                                                      "emailDomain": "regex:(cs|math)\\.uni\\.edu"}))
write("assignments", "create-bad-regex-domain.json", event("POST", A, A, {"tierId": "basic", "assignmentType": "email_domain",
                                                                          "emailDomain": "regex:(cs|math"}))

U = "/api/admin/quota/users"
UR = U + "/{userId}"
write("users", "inspect.json", event("GET", U + "/u1", UR, query="roles=Faculty,Staff&email=u1@uni.edu", path_params={"userId": "u1"}))
write("users", "inspect-unknown-user.json", event("GET", U + "/nobody", UR, path_params={"userId": "nobody"}))
write("users", "inspect-bad-email.json", event("GET", U + "/u1", UR, query="email=not-an-email", path_params={"userId": "u1"}))
write("users", "inspect-bad-id.json", event("GET", U + "/u%23x", UR, path_params={"userId": "u#x"}))
write("users", "inspect-too-many-roles.json", event("GET", U + "/u1", UR, query="roles=" + ",".join(f"r{i}" for i in range(101)),
                                                  path_params={"userId": "u1"}))
SH = "/api/admin/quota/shadow"
write("users", "shadow.json", event("GET", SH, SH))
write("users", "shadow-policy.json", event("GET", SH, SH, query="policyId=tier:students&limit=1"))
write("users", "shadow-bad.json", event("GET", SH, SH, query="policyId=students&from=2026-12-07T00:00:00Z&to=2026-01-01T00:00:00Z"))
write("users", "shadow-forged-token.json", event("GET", SH, SH, query="policyId=tier:students&nextToken=bm9ib2R5"))
SIM = "/api/admin/quota/simulate"
write("users", "simulate-tier.json", event("POST", SIM, SIM, {"from": "DAY", "to": "DAY",
                                                            "tier": {"tierId": "students", "patch": {"dailyCostLimit": "1.00"}}}))
write("users", "simulate-direct.json", event("POST", SIM, SIM, {"from": "DAY", "to": "DAY", "assignment": {
    "tierId": "tight", "assignmentType": "direct_user", "userId": "ann"}}))
write("users", "simulate-role.json", event("POST", SIM, SIM, {"from": "DAY", "to": "DAY", "assignment": {
    "tierId": "tight", "assignmentType": "jwt_role", "jwtRole": "Chem"}}))
write("users", "simulate-bad.json", event("POST", SIM, SIM, {"from": "2026-12-07", "to": "2026-10-01"}))
write("users", "inspect-no-token.json", event("GET", U + "/u1", UR, auth=None, path_params={"userId": "u1"}))

O = "/api/admin/quota/overrides"
OR = O + "/{overrideId}"
# Far-future dates, so the fixtures stay valid (validUntil must not be past).
dana = {"userId": "dana", "overrideType": "custom_limit", "monthlyCostLimit": "50", "dailyCostLimit": "10",
        "validFrom": "2099-12-01T00:00:00Z", "validUntil": "2099-12-08T00:00:00Z", "reason": "conference demo"}
bot = {"userId": "oncall-bot", "overrideType": "unlimited", "validFrom": "2099-11-01T00:00:00Z",
       "validUntil": "2099-11-05T00:00:00Z", "reason": "on call this week"}
write("overrides", "create.json", event("POST", O, O, dana))
write("overrides", "create-unlimited.json", event("POST", O, O, bot))
write("overrides", "create-shadow.json", event("POST", O, O, {**dana, "mode": "shadow", "reason": "try a lower cap first"}))
write("overrides", "list-shadow.json", event("GET", O, O, query="mode=shadow"))
write("overrides", "create-invalid.json", event("POST", O, O, {**dana, "monthlyCostLimit": None, "dailyCostLimit": None,
                                                               "validUntil": "2099-11-30T00:00:00Z", "reason": " "}))
write("overrides", "create-unlimited-with-limit.json", event("POST", O, O, {**bot, "monthlyCostLimit": "5"}))
write("overrides", "create-past.json", event("POST", O, O, {**dana, "validFrom": "2020-01-01T00:00:00Z",
                                                            "validUntil": "2020-01-08T00:00:00Z"}))
write("overrides", "create-too-long.json", event("POST", O, O, {**dana, "validUntil": "2101-06-01T00:00:00Z"}))
write("overrides", "create-over-precise.json", event("POST", O, O, {**dana, "monthlyCostLimit": "0.00000000001"}))
write("overrides", "create-unknown-field.json", event("POST", O, O, {**dana, "priority": 1}))
write("overrides", "create-bad-user.json", event("POST", O, O, {**dana, "userId": "a#b"}))
write("overrides", "create-not-admin.json", event("POST", O, O, dana, auth=STAFF))
write("overrides", "list.json", event("GET", O, O, query="limit=1"))
write("overrides", "list-by-user-and-status.json", event("GET", O, O, query="userId=dana&status=upcoming"))
write("overrides", "list-bad-status.json", event("GET", O, O, query="status=soon"))
write("overrides", "get.json", event("GET", O + "/OVERRIDE_ID", OR, path_params={"overrideId": "OVERRIDE_ID"}))
write("overrides", "get-missing.json", event("GET", O + "/no-such-id", OR, path_params={"overrideId": "no-such-id"}))
write("overrides", "update.json", event("PATCH", O + "/OVERRIDE_ID", OR,
                                        {"validUntil": "2099-12-15T00:00:00Z", "reason": "conference, extended"},
                                        headers={"if-match": '"1"'}, path_params={"overrideId": "OVERRIDE_ID"}))
write("overrides", "update-user.json", event("PATCH", O + "/OVERRIDE_ID", OR, {"userId": "eve"},
                                             path_params={"overrideId": "OVERRIDE_ID"}))
write("overrides", "delete.json", event("DELETE", O + "/OVERRIDE_ID", OR, path_params={"overrideId": "OVERRIDE_ID"}))

E = "/api/admin/quota/events"
write("events", "list.json", event("GET", E, E, query="limit=2"))
write("events", "list-filtered.json", event("GET", E, E, query="userId=ann&type=warning&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"))
write("events", "list-by-tier.json", event("GET", E, E, query="tierId=staff"))
write("events", "list-by-group.json", event("GET", E, E, query="groupId=chem&type=warning"))
write("events", "list-csv.json", event("GET", E, E, query="format=csv&limit=10"))
write("events", "list-bad-filters.json", event("GET", E, E, query="type=blocked&from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z"))
write("events", "list-bad-time.json", event("GET", E, E, query="from=yesterday"))
write("events", "list-repeated-filter.json", event("GET", E, E, query="userId=ann&type=block&userId=bob"))
write("events", "list-forged-token.json", event("GET", E, E, query="nextToken=eyJtIjoiMjAyNi0xMyJ9"))
write("events", "list-not-admin.json", event("GET", E, E, auth=STAFF))
TU = "/api/admin/quota/analytics/top-users"
DA = "/api/admin/quota/analytics/daily"
write("events", "analytics-top-users.json", event("GET", TU, TU, query="period=2026-11&limit=2"))
write("events", "analytics-top-users-day.json", event("GET", TU, TU, query="period=2026-11-28&tierId=staff"))
write("events", "analytics-top-users-bad.json", event("GET", TU, TU, query="period=2026-13&limit=0"))
write("events", "analytics-top-users-group.json", event("GET", TU, TU, query="period=2026-11&groupId=chem&limit=5"))
write("events", "analytics-top-users-group-day.json", event("GET", TU, TU, query="period=2026-11-28&groupId=chem"))
write("events", "analytics-daily.json", event("GET", DA, DA, query="from=2026-11-27&to=2026-11-28"))
write("events", "analytics-daily-bad.json", event("GET", DA, DA, query="from=2026-11-28&to=2026-11-01"))

P = "/api/admin/quota/prices"
PR = P + "/{priceId}"
Q = P + "/quote"
sonnet = {"model": "anthropic/claude-sonnet-4-5", "aliases": ["anthropic/claude-sonnet-4-5*"],
          "effectiveFrom": "2026-01-01T00:00:00Z", "inputPerMillion": "3", "outputPerMillion": "15",
          "cachedInputPerMillion": "0.30", "cacheWritePerMillion": "3.75",
          "longContext": {"thresholdTokens": 200000, "inputPerMillion": "6", "outputPerMillion": "22.50",
                          "cachedInputPerMillion": "0.60", "cacheWritePerMillion": "7.50"},
          "source": "anthropic.com/pricing"}
write("prices", "create.json", event("POST", P, P, sonnet))
write("prices", "create-fallback.json", event("POST", P, P, {"model": "*", "effectiveFrom": "2026-01-01T00:00:00Z",
                                                          "inputPerMillion": 10, "outputPerMillion": 30,
                                                          "note": "unknown models at a safe price"}))
write("prices", "create-fallback-now.json", event("POST", P, P, {"model": "*", "inputPerMillion": 12, "outputPerMillion": 36,
                                                              "note": "from now on, no effectiveFrom"}))
write("prices", "create-scheduled.json", event("POST", P, P, {**sonnet, "effectiveFrom": "2099-01-01T00:00:00Z",
                                                           "inputPerMillion": "2.5", "outputPerMillion": "250", "note": "announced cut"}))
write("prices", "create-per-token.json", event("POST", P, P, {**sonnet, "effectiveFrom": "2026-06-01T00:00:00Z",
                                                           "inputPerMillion": "0.000003"}))
write("prices", "create-jump.json", event("POST", P, P, {**sonnet, "effectiveFrom": "2098-01-01T00:00:00Z",
                                                      "outputPerMillion": "300"}))
write("prices", "create-backdated.json", event("POST", P, P, {**sonnet, "effectiveFrom": "2026-06-01T00:00:00Z",
                                                            "note": "a correction of the past"}))
write("prices", "create-jump-confirmed.json", event("POST", P, P, {**sonnet, "effectiveFrom": "2098-01-01T00:00:00Z",
                                                                "outputPerMillion": "300", "confirmJump": True,
                                                                "note": "batch tier, really tenfold"}))
write("prices", "create-invalid.json", event("POST", P, P, {"model": "a b", "currency": "EUR", "inputPerMillion": "1.00001",
                                                         "outputPerMillion": "1", "aliases": ["*"]}))
write("prices", "create-not-admin.json", event("POST", P, P, sonnet, auth=STAFF))
write("prices", "list.json", event("GET", P, P, query="limit=1"))
write("prices", "list-at.json", event("GET", P, P, query="at=2026-03-01T00:00:00Z"))
write("prices", "list-history.json", event("GET", P, P, query="model=anthropic/claude-sonnet-4-5"))
write("prices", "list-bad.json", event("GET", P, P, query="model=a%23b&at=yesterday"))
write("prices", "get.json", event("GET", P + "/PRICE_ID", PR, path_params={"priceId": "PRICE_ID"}))
write("prices", "get-missing.json", event("GET", P + "/no-such-id", PR, path_params={"priceId": "no-such-id"}))
write("prices", "delete.json", event("DELETE", P + "/PRICE_ID", PR, path_params={"priceId": "PRICE_ID"}))
write("prices", "quote.json", event("POST", Q, Q, {"model": "anthropic/claude-sonnet-4-5-20250929", "inputTokens": 1200,
                                                "outputTokens": 300, "cachedInputTokens": 50000}))
write("prices", "quote-past.json", event("POST", Q, Q, {"model": "anthropic/claude-sonnet-4-5", "inputTokens": 1000000,
                                                     "at": "2026-03-01T00:00:00Z"}))
write("prices", "quote-unpriced.json", event("POST", Q, Q, {"model": "mistral/large", "inputTokens": 1}))
write("prices", "quote-bad.json", event("POST", Q, Q, {"model": "gpt#4", "inputTokens": 2000000000}))

G = "/api/admin/quota/groups"
GR = G + "/{groupId}"
GM = GR + "/members"
GMU = GM + "/{userId}"
chem = {"groupId": "chem", "groupName": "Chemistry", "description": "the department's pool",
        "monthlyCostLimit": "500", "jwtRoles": ["chem-students"], "emailDomains": ["chem.uni.edu"]}
write("groups", "create.json", event("POST", G, G, chem))
write("groups", "create-invalid.json", event("POST", G, G, {"groupId": "bad#id", "groupName": "", "enforcement": "strict"}))
write("groups", "create-not-admin.json", event("POST", G, G, chem, auth=STAFF))
write("groups", "list.json", event("GET", G, G, query="limit=1"))
write("groups", "list-shadow.json", event("GET", G, G, query="mode=shadow"))
write("groups", "get.json", event("GET", G + "/chem", GR, path_params={"groupId": "chem"}))
write("groups", "get-missing.json", event("GET", G + "/nope", GR, path_params={"groupId": "nope"}))
write("groups", "update.json", event("PATCH", G + "/chem", GR, {"dailyCostLimit": "25", "jwtRoles": []},
                                     headers={"if-match": '"1"'}, path_params={"groupId": "chem"}))
write("groups", "update-stale.json", event("PATCH", G + "/chem", GR, {"enabled": False},
                                           headers={"if-match": '"1"'}, path_params={"groupId": "chem"}))
write("groups", "add-member.json", event("POST", G + "/chem/members/dana", GMU,
                                         path_params={"groupId": "chem", "userId": "dana"}))
write("groups", "add-member-bad-user.json", event("POST", G + "/chem/members/a%23b", GMU,
                                                  path_params={"groupId": "chem", "userId": "a#b"}))
write("groups", "list-members.json", event("GET", G + "/chem/members", GM, query="limit=10",
                                           path_params={"groupId": "chem"}))
write("groups", "remove-member.json", event("DELETE", G + "/chem/members/dana", GMU,
                                            path_params={"groupId": "chem", "userId": "dana"}))
write("groups", "usage.json", event("GET", G + "/chem/usage", GR + "/usage", path_params={"groupId": "chem"}))
write("groups", "usage-missing.json", event("GET", G + "/nope/usage", GR + "/usage", path_params={"groupId": "nope"}))
write("groups", "delete.json", event("DELETE", G + "/chem", GR, path_params={"groupId": "chem"}))
write("groups", "delete-force.json", event("DELETE", G + "/chem", GR, query="force=true", path_params={"groupId": "chem"}))
