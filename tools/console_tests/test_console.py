"""Each console page's main action, end to end: the browser, the console,
the local stack, the emulator."""

import datetime
import json
import pathlib
import re

import pytest
from conftest import ROOT, shoot
from fake_idp import FakeIdp
from playwright.sync_api import expect

PAGES = ["tiers", "assignments", "overrides", "prices", "groups", "shadow", "events", "analytics", "users"]


def in_days(days):
    """An instant `days` from now, to the minute, as the API writes it."""
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return at.strftime("%Y-%m-%dT%H:%M:00Z")


def open_page(page, stack_url, name):
    page.goto(f"{stack_url}/console/#/{name}")


def test_sign_in_url_leaves_the_address_bar_and_sign_out_asks_again(console, admin_token):
    assert "token" not in console.url
    expect(console.get_by_role("navigation", name="Console pages")).to_be_visible()
    expect(console.get_by_text("local-admin")).to_be_visible()
    console.get_by_role("button", name="Sign out").click()
    expect(console.get_by_label("Admin token")).to_be_visible()
    assert accessibility_violations(console) == []
    console.get_by_label("Admin token").fill("not a token")
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("alert")).to_contain_text("not a JWT")
    console.get_by_label("Admin token").fill(admin_token)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name="Tiers", level=1)).to_be_visible()


def test_a_refused_token_shows_the_sign_in(page, stack_url, admin_token):
    forged = admin_token[:-4] + ("AAAA" if not admin_token.endswith("AAAA") else "BBBB")
    page.goto(f"{stack_url}/console/#token={forged}")
    expect(page.get_by_role("alert")).to_contain_text("sign in again")
    expect(page.get_by_label("Admin token")).to_be_visible()


def test_a_token_without_the_admin_role_is_told_so(page, stack_url, mint):
    page.goto(f"{stack_url}/console/#token={mint('viewer', ['staff'])}")
    expect(page.get_by_role("alert")).to_contain_text("Forbidden")
    expect(page.locator("header .who")).to_contain_text("viewer")


def test_a_store_outage_is_said_and_retried(console, stack_url):
    """503 problem+json (the store down or throttling), then the service back."""
    outage = json.dumps({"type": "urn:quota:problem:unavailable", "title": "Service unavailable", "status": 503,
                         "detail": "The quota store is not answering; retry shortly."})
    down = lambda route: route.fulfill(status=503, content_type="application/problem+json", body=outage,
                                       headers={"retry-after": "1"})
    listing = re.compile(r"/api/admin/quota/assignments(\?.*)?$")
    console.route(listing, down)
    open_page(console, stack_url, "assignments")
    alert = console.get_by_role("alert")
    expect(alert).to_contain_text("Service unavailable")
    expect(alert).to_contain_text("not answering")
    shoot(console, "assignments-outage")
    console.unroute(listing)
    alert.get_by_role("button", name="Try again").click()
    expect(console.get_by_role("alert")).to_have_count(0)
    expect(console.locator("tbody tr", has_text="Everyone else (default)")).to_be_visible()


def test_text_from_the_api_is_shown_as_text_never_run(console, api, unique):
    name = '<img src=x onerror="window.pwned=1">'
    api.ok("POST", "/tiers", {"tierId": f"xss-{unique}", "tierName": name, "unlimited": True,
                              "description": "<script>window.pwned=1</script>"})
    console.reload()
    row = console.locator("tbody tr", has_text=f"xss-{unique}")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("<script>window.pwned=1</script>")
    assert console.locator("tbody img, tbody script").count() == 0
    assert console.evaluate("window.pwned") is None


def test_create_a_tier_with_field_errors_shown_at_their_fields(console, api, unique):
    console.get_by_role("button", name="New tier").click()
    console.get_by_label("Tier id").fill(f"gold {unique}")
    console.get_by_label("Name").fill(f"Gold {unique}")
    console.get_by_label("Daily cost limit").fill("3.50")
    console.get_by_role("button", name="Create tier").click()
    tier_id = console.get_by_label("Tier id")
    expect(tier_id).to_have_attribute("aria-invalid", "true")
    expect(console.locator("#f-tierId-error")).to_contain_text("allowed are letters, digits")
    shoot(console, "tiers-field-error")
    assert accessibility_violations(console) == []
    tier_id.fill(f"gold-{unique}")
    console.get_by_label("Daily cost limit").fill("-3.50")
    console.get_by_role("button", name="Create tier").click()
    expect(console.locator("#f-dailyCostLimit-error")).to_be_visible()
    console.get_by_label("Daily cost limit").fill("3.50")
    console.get_by_role("button", name="Create tier").click()
    expect(console.get_by_role("status").filter(has_text=f"Tier gold-{unique} created")).to_be_visible()
    assert api.ok("GET", f"/tiers/gold-{unique}")["dailyCostLimit"] == "3.50"
    console.get_by_label("Search tiers").fill(f"gold-{unique}")
    rows = console.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$3.50")


def test_an_edit_meanwhile_is_a_conflict_to_reload(console, api, unique):
    tier = f"conflict-{unique}"
    api.ok("POST", "/tiers", {"tierId": tier, "tierName": "Before", "dailyCostLimit": "1.00"})
    console.reload()
    # Saving without a change sends nothing.
    console.get_by_role("button", name=f"Edit {tier}").click()
    console.get_by_role("button", name="Save changes").click()
    expect(console.get_by_role("status").filter(has_text=f"Tier {tier} unchanged")).to_be_visible()
    assert api.ok("GET", f"/tiers/{tier}")["version"] == 1
    console.get_by_role("button", name=f"Edit {tier}").click()
    api.ok("PATCH", f"/tiers/{tier}", {"tierName": "Someone else's"}, if_match=1)
    console.get_by_label("Name").fill("Mine")
    console.get_by_role("button", name="Save changes").click()
    alert = console.get_by_role("alert")
    expect(alert).to_contain_text("changed by someone else")
    shoot(console, "tiers-conflict")
    alert.get_by_role("button", name="Reload").click()
    expect(console.get_by_label("Name")).to_have_value("Someone else's")
    console.get_by_label("Name").fill("Mine")
    console.get_by_role("button", name="Save changes").click()
    expect(console.get_by_role("status").filter(has_text=f"Tier {tier} updated")).to_be_visible()
    assert api.ok("GET", f"/tiers/{tier}")["tierName"] == "Mine"


def test_a_tier_rations_some_models_with_a_model_limit(console, api, stack_url, unique):
    tier_id = f"rationed-{unique}"
    open_page(console, stack_url, "tiers")
    console.get_by_role("button", name="New tier").click()
    console.get_by_label("Tier id").fill(tier_id)
    console.locator("#f-tierName").fill("Rationed")
    console.locator("#f-monthlyCostLimit").fill("20")
    console.get_by_role("button", name="Add a model limit").click()
    first = console.get_by_role("group", name="Model limit 1")
    first.get_by_label("Limit id").fill("premium")
    first.get_by_label("Models").fill("acme/big*, acme/huge")
    first.get_by_label("Daily request limit").fill("3")
    first.get_by_label("Suggest instead").fill("acme/small")
    console.get_by_role("button", name="Add a model limit").click()
    second = console.get_by_role("group", name="Model limit 2")
    second.get_by_label("Limit id").fill("big2")
    second.get_by_label("Models").fill("acme/big-2")
    second.get_by_label("Monthly cost limit").fill("5")
    console.get_by_role("button", name="Create tier").click()
    # acme/big-2 is already rationed by premium's prefix: named at its field, nothing written.
    expect(second.locator(".field-error")).to_contain_text("overlaps the models of premium")
    assert api.call("GET", f"/tiers/{tier_id}")[0] == 404
    second.get_by_role("button", name="Remove model limit 2").click()
    console.get_by_role("button", name="Create tier").click()
    expect(console.get_by_role("status").filter(has_text=f"Tier {tier_id} created")).to_be_visible()
    stored = api.ok("GET", f"/tiers/{tier_id}")
    assert stored["modelLimits"] == [{"limitId": "premium", "models": ["acme/big*", "acme/huge"],
                                      "monthlyCostLimit": None, "dailyCostLimit": None, "monthlyTokenLimit": None,
                                      "dailyTokenLimit": None, "monthlyRequestLimit": None, "dailyRequestLimit": 3,
                                      "suggestModel": "acme/small"}]
    row = console.locator("tbody tr", has_text=tier_id)
    expect(row).to_contain_text("premium (acme/big*, acme/huge): daily request 3")
    # Edited: the limit raised, sent as a whole new list with If-Match.
    row.get_by_role("button", name=f"Edit {tier_id}").click()
    console.get_by_role("group", name="Model limit 1").get_by_label("Daily request limit").fill("5")
    console.get_by_role("button", name="Save changes").click()
    expect(console.get_by_role("status").filter(has_text=f"Tier {tier_id} updated")).to_be_visible()
    assert api.ok("GET", f"/tiers/{tier_id}")["modelLimits"][0]["dailyRequestLimit"] == 5


def test_delete_a_tier_after_confirming(console, api, unique):
    tier = f"gone-{unique}"
    api.ok("POST", "/tiers", {"tierId": tier, "tierName": "Gone", "unlimited": True})
    console.reload()
    row = console.locator("tbody tr", has_text=tier)
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(console.get_by_role("status").filter(has_text=f"Tier {tier} deleted")).to_be_visible()
    expect(console.locator("tbody tr", has_text=tier)).to_have_count(0)
    assert api.call("GET", f"/tiers/{tier}")[0] == 404


def test_create_an_assignment_and_filter_by_type_and_tier(console, api, stack_url, unique):
    tier = f"role-tier-{unique}"
    api.ok("POST", "/tiers", {"tierId": tier, "tierName": f"Role tier {unique}", "monthlyCostLimit": "40"})
    open_page(console, stack_url, "assignments")
    console.get_by_role("button", name="New assignment").click()
    console.get_by_label("Type").select_option("jwt_role")
    console.get_by_role("textbox", name="Role", exact=True).fill(f"Researchers{unique}")
    console.get_by_label("Tier").select_option(tier)
    console.get_by_label("Priority").fill("250")
    console.get_by_role("button", name="Create assignment").click()
    expect(console.get_by_role("status").filter(has_text="Assignment created")).to_be_visible()
    console.get_by_label("Type").select_option("jwt_role")
    console.get_by_label("Tier").select_option(tier)
    rows = console.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"JWT role: Researchers{unique}")
    expect(rows.first).to_contain_text("250")
    console.get_by_label("Type").select_option("email_domain")
    expect(console.get_by_text("No assignments match.")).to_be_visible()
    found = api.ok("GET", f"/assignments?tierId={tier}")["items"]
    assert [a["jwtRole"] for a in found] == [f"Researchers{unique}"]


def test_edit_an_assignment_then_delete_it(console, api, stack_url, unique):
    tier = f"edit-tier-{unique}"
    api.ok("POST", "/tiers", {"tierId": tier, "tierName": "Edit tier", "unlimited": True})
    created = api.ok("POST", "/assignments", {"assignmentType": "email_domain", "emailDomain": f"{unique}.example.org", "tierId": tier})
    open_page(console, stack_url, "assignments")
    console.get_by_label("Tier").select_option(tier)
    row = console.locator("tbody tr", has_text=f"{unique}.example.org")
    row.get_by_role("button", name=re.compile("^Edit")).click()
    console.get_by_label("Priority").fill("-5")
    console.get_by_role("button", name="Save changes").click()
    expect(console.locator("#f-priority-error")).to_be_visible()
    console.get_by_label("Priority").fill("175")
    console.get_by_role("button", name="Save changes").click()
    expect(console.get_by_role("status").filter(has_text="Assignment updated")).to_be_visible()
    assert api.ok("GET", f"/assignments/{created['assignmentId']}")["priority"] == 175
    row = console.locator("tbody tr", has_text=f"{unique}.example.org")
    expect(row).to_contain_text("175")
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(console.get_by_text("No assignments match.")).to_be_visible()
    assert api.call("GET", f"/assignments/{created['assignmentId']}")[0] == 404


def test_grant_an_override_then_disable_it(console, api, stack_url, unique):
    user = f"olga-{unique}"
    open_page(console, stack_url, "overrides")
    console.get_by_role("button", name="New override").click()
    console.get_by_label("User id").fill(user)
    console.get_by_label("Reason").fill("Thesis deadline")
    console.get_by_label("Daily cost limit").fill("25.00")
    console.get_by_role("button", name="Create override").click()
    expect(console.get_by_role("status").filter(has_text=f"Override created for {user}")).to_be_visible()
    console.get_by_label("User id").fill(user)
    console.get_by_role("button", name="Filter").click()
    row = console.locator("tbody tr", has_text=user)
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("daily cost limit 25.00")
    row.get_by_role("button", name=f"Disable the override for {user}").click()
    expect(console.locator("tbody tr", has_text=user)).to_contain_text("disabled")
    [override] = api.ok("GET", f"/overrides?userId={user}")["items"]
    assert override["enabled"] is False
    row = console.locator("tbody tr", has_text=user)
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(console.get_by_text("No overrides match.")).to_be_visible()
    assert api.ok("GET", f"/overrides?userId={user}")["items"] == []


def test_extend_an_override_and_reload_after_an_edit_meanwhile(console, api, stack_url, unique):
    user = f"otto-{unique}"
    created = api.ok("POST", "/overrides", {"userId": user, "overrideType": "custom_limit", "dailyCostLimit": "5.00",
                                            "validUntil": in_days(7), "reason": "Grant"})
    open_page(console, stack_url, f"overrides?userId={user}")
    console.get_by_role("button", name=f"Edit the override for {user}").click()
    api.ok("PATCH", f"/overrides/{created['overrideId']}", {"reason": "Someone else's"}, if_match=1)
    console.get_by_label("Valid until").fill(in_days(14))
    console.get_by_role("button", name="Save changes").click()
    alert = console.get_by_role("alert")
    expect(alert).to_contain_text("changed by someone else")
    alert.get_by_role("button", name="Reload").click()
    expect(console.get_by_label("Reason")).to_have_value("Someone else's")
    until = in_days(14)
    console.get_by_label("Valid until").fill(until)
    console.get_by_label("Daily cost limit").fill("")
    console.get_by_label("Monthly cost limit").fill("50.00")
    console.get_by_role("button", name="Save changes").click()
    expect(console.get_by_role("status").filter(has_text=f"Override updated for {user}")).to_be_visible()
    stored = api.ok("GET", f"/overrides/{created['overrideId']}")
    assert (stored["validUntil"][:16], stored["dailyCostLimit"], stored["monthlyCostLimit"]) == (until[:16], None, "50.00")
    assert stored["reason"] == "Someone else's" and stored["version"] == 3


def test_a_new_price_asks_before_a_tenfold_jump_then_quotes_it(console, api, stack_url, unique):
    model = f"acme/chat-{unique}"
    api.ok("POST", "/prices", {"model": model, "effectiveFrom": "2026-01-01T00:00:00Z",
                               "inputPerMillion": "2", "outputPerMillion": "8"})
    open_page(console, stack_url, "prices")
    console.get_by_role("button", name="New price").click()
    console.locator("#f-model").fill(model)
    console.get_by_label("Input per million", exact=True).fill("0.000002")
    console.get_by_label("Output per million", exact=True).fill("8")
    console.get_by_role("button", name="Create price").click()
    # A per-token price: refused at its field, nothing written.
    expect(console.locator("#f-inputPerMillion-error")).to_contain_text("at most 4 decimal places")
    console.get_by_label("Input per million", exact=True).fill("25")
    console.get_by_role("button", name="Create price").click()
    alert = console.get_by_role("alert").filter(has_text="create the price anyway")
    expect(console.get_by_role("alert").first).to_contain_text("inputPerMillion was 2")
    assert len(api.ok("GET", f"/prices?model={model}")["items"]) == 1, "the jump wrote nothing"
    alert.get_by_role("button", name="Create anyway: the change is meant").click()
    expect(console.get_by_role("status").filter(has_text=f"Price created for {model}")).to_be_visible()
    history = api.ok("GET", f"/prices?model={model}")["items"]
    assert [p["inputPerMillion"] for p in history] == ["25", "2"], "newest first; rates as exact strings"
    row = console.locator("tbody tr", has_text=model)
    expect(row).to_contain_text("input 25")
    row.get_by_role("button", name=f"History of {model}").click()
    expect(console.locator("tbody tr", has_text=model)).to_have_count(2)
    quote = console.get_by_role("form", name="Quote a request")
    quote.get_by_label("Model").fill(model)
    quote.get_by_label("Input tokens", exact=True).fill("1000")
    quote.get_by_label("Output tokens").fill("500")
    quote.get_by_role("button", name="Quote").click()
    table = console.get_by_role("table", name="Quote")
    expect(table.locator("tr", has_text="Total")).to_contain_text("0.029")
    expect(table).to_contain_text(history[0]["priceId"])


def test_a_group_is_created_given_members_and_deleted_with_them(console, api, stack_url, unique):
    group_id, dana, eve = f"chem-{unique}", f"dana-{unique}", f"eve-{unique}"
    open_page(console, stack_url, "groups")
    console.get_by_role("button", name="New group").click()
    console.get_by_label("Group id").fill(group_id)
    console.locator("#f-groupName").fill("Chemistry")
    console.get_by_label("Members by JWT role").fill("chem-students, chem-staff")
    console.get_by_role("button", name="Create group").click()
    # A pool without a limit limits nothing: refused at the field.
    expect(console.locator("#f-monthlyCostLimit-error")).to_contain_text("at least one")
    console.locator("#f-monthlyCostLimit").fill("500")
    console.get_by_role("button", name="Create group").click()
    expect(console.get_by_role("status").filter(has_text=f"Group {group_id} created")).to_be_visible()
    stored = api.ok("GET", f"/groups/{group_id}")
    assert (stored["monthlyCostLimit"], stored["jwtRoles"], stored["memberCount"]) == ("500.00", ["chem-students", "chem-staff"], 0)
    row = console.locator("tbody tr", has_text=group_id)
    expect(row).to_contain_text("role chem-students")
    row.get_by_role("button", name=f"Members of {group_id}").click()
    members = console.get_by_role("region", name="Named members of Chemistry")
    for user in (dana, eve):
        members.get_by_label("User id").fill(user)
        members.get_by_role("button", name="Add member").click()
        expect(members.locator("tbody tr", has_text=user)).to_be_visible()
    assert api.ok("GET", f"/groups/{group_id}")["memberCount"] == 2
    members.locator("tbody tr", has_text=eve).get_by_role("button", name="Remove").click()
    members.locator("tbody tr", has_text=eve).get_by_role("button", name="Yes, remove").click()
    expect(members.locator("tbody tr", has_text=eve)).to_have_count(0)
    # Dana spends: the group's pool and its top members show it.
    api.record(dana, "12.50")
    row.get_by_role("button", name=f"Usage of {group_id}").click()
    usage = console.get_by_role("region", name="Usage of Chemistry")
    expect(usage.locator(".window", has_text="monthly cost")).to_contain_text("$12.50 of $500.00")
    expect(usage.locator("tbody tr", has_text=dana)).to_contain_text("$12.50")
    # The inspector lists her group, matched as a named member.
    open_page(console, stack_url, "users")
    console.get_by_label("User id").fill(dana)
    console.get_by_role("button", name="Inspect").click()
    group = console.get_by_role("region", name=f"Group {group_id}")
    expect(group).to_contain_text("member")
    expect(group.locator(".window", has_text="monthly cost")).to_contain_text("$12.50 of $500.00")
    open_page(console, stack_url, "groups")
    # Deleting a group with a named member is forced after the confirmation.
    row = console.locator("table:not(:has(caption:text('Named members'))) tbody tr", has_text=group_id)
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Yes, delete").click()
    expect(console.get_by_role("status").filter(has_text=f"Group {group_id} deleted")).to_be_visible()
    assert api.call("GET", f"/groups/{group_id}")[0] == 404


def test_a_shadow_assignment_is_created_reported_and_promoted(console, api, stack_url, unique):
    tier, role, user = f"strict-{unique}", f"Lab{unique}", f"lena-{unique}"
    api.ok("POST", "/tiers", {"tierId": tier, "tierName": "Strict lab", "dailyCostLimit": "0.50"})
    open_page(console, stack_url, "assignments")
    console.get_by_role("button", name="New assignment").click()
    console.get_by_label("Type").select_option("jwt_role")
    console.get_by_role("textbox", name="Role", exact=True).fill(role)
    console.get_by_label("Tier").select_option(tier)
    console.get_by_label("Mode").select_option("shadow")
    console.get_by_role("button", name="Create assignment").click()
    row = console.locator("tbody tr", has_text=role)
    expect(row.locator(".badge.shadow")).to_have_text("shadow")
    [assignment] = [a for a in api.ok("GET", "/assignments?mode=shadow&limit=100")["items"] if a.get("jwtRole") == role]
    # Lena, with the role, spends 0.60: allowed (her tier is the default), but the
    # shadow assignment's tier would block her next check.
    check = {"userId": user, "roles": [role]}
    assert api.call("POST", "/check", check, admin=False)[0] == 200
    api.ok("POST", "/usage", {"userId": user, "roles": [role], "cost": "0.60", "requestId": f"l-{unique}"}, admin=False)
    assert api.call("POST", "/check", check, admin=False)[0] == 200, "a shadow policy changes no answer"
    open_page(console, stack_url, "shadow")
    policy = console.locator("tbody tr", has_text=assignment["assignmentId"])
    expect(policy).to_contain_text("1 users")
    policy.get_by_role("button", name=f"Users of assignment:{assignment['assignmentId']}").click()
    expect(console.get_by_role("region", name=re.compile("would have blocked")).locator("tbody tr", has_text=user)).to_be_visible()
    policy.get_by_role("button", name="Promote").click()
    policy.get_by_role("button", name="Yes, promote").click()
    expect(console.get_by_role("status").filter(has_text="promoted")).to_be_visible()
    assert api.ok("GET", f"/assignments/{assignment['assignmentId']}")["mode"] == "enforce"
    # Now it decides: Lena's 0.60 is over the strict tier's 0.50.
    assert api.call("POST", "/check", check, admin=False)[0] == 429
    # What would 0.40 a day on the default tier (which judged Lena's 0.60) have done?
    console.reload()
    sim = console.get_by_role("region", name="Simulate a tier change")
    sim.get_by_label("Tier").select_option("basic")
    sim.get_by_label("New daily cost limit").fill("0.40")
    sim.get_by_role("button", name="Simulate").click()
    expect(sim.locator("tbody tr", has_text=user)).to_contain_text("daily cost: 0.60 of 0.40")


def test_a_tiers_shadow_limits_are_set_in_its_form_and_promoted(console, api, stack_url, unique):
    tier = f"next-{unique}"
    console.get_by_role("button", name="New tier").click()
    console.get_by_label("Tier id").fill(tier)
    console.get_by_label("Name").fill("Next year")
    console.get_by_label("Daily cost limit").fill("5")
    console.get_by_label("Shadow limit per day ($)").fill("2")
    console.get_by_role("button", name="Create tier").click()
    expect(console.get_by_role("status").filter(has_text=f"Tier {tier} created")).to_be_visible()
    assert api.ok("GET", f"/tiers/{tier}")["shadow"]["dailyCostLimit"] == "2.00"
    console.get_by_label("Search tiers").fill(tier)
    expect(console.locator("table tbody tr").first.locator(".badge.shadow")).to_have_text("shadow limits")
    open_page(console, stack_url, "shadow")
    policy = console.locator("tbody tr", has_text=f"Tier shadow limits {tier}")
    expect(policy).to_contain_text("0 users")
    policy.get_by_role("button", name="Promote").click()
    policy.get_by_role("button", name="Yes, promote").click()
    expect(console.get_by_role("status").filter(has_text=f"tier:{tier} promoted")).to_be_visible()
    promoted = api.ok("GET", f"/tiers/{tier}")
    assert (promoted["dailyCostLimit"], promoted.get("shadow")) == ("2.00", None)


def test_events_show_on_first_load_and_filter_by_type(console, stack_url):
    open_page(console, stack_url, "events")
    rows = console.locator("tbody tr")
    expect(rows.first).not_to_contain_text("No events match")
    assert rows.count() > 0
    console.get_by_label("Type").select_option("admin_change")
    console.get_by_role("button", name="Search").click()
    badges = console.locator("tbody tr .badge")
    expect(badges.filter(has_not_text="admin change")).to_have_count(0)
    expect(badges.first).to_have_text("admin change")
    with console.expect_download() as download:
        console.get_by_role("button", name="Download CSV").click()
    csv = pathlib.Path(download.value.path()).read_text()
    header, *lines = csv.strip().splitlines()
    assert "eventType" in header and lines
    assert all(",admin_change," in line for line in lines)
    # Whole UTC days, both ends included: the newest event's day finds it, the next day nothing.
    newest = console.locator("tbody tr td").first.inner_text()[:10]
    following = (datetime.date.fromisoformat(newest) + datetime.timedelta(days=1)).isoformat()
    console.get_by_label("From (UTC day)").fill(newest)
    console.get_by_label("To (UTC day)").fill(newest)
    console.get_by_role("button", name="Search").click()
    expect(console.locator("tbody tr td").first).to_contain_text(newest)
    console.get_by_label("From (UTC day)").fill(following)
    console.get_by_label("To (UTC day)").fill(following)
    console.get_by_role("button", name="Search").click()
    expect(console.get_by_text("No events match.")).to_be_visible()


def test_load_more_pages_through_the_api_without_repeats(console, stack_url):
    # Pages of two (the API's own paging, asked for smaller pages than the console's).
    def small_pages(route):
        url = route.request.url
        route.continue_(url=url + ("&" if "?" in url else "?") + "limit=2")

    console.route(re.compile(r"/api/admin/quota/events(\?.*)?$"), small_pages)
    open_page(console, stack_url, "events")
    rows = console.locator("tbody tr")
    expect(rows).to_have_count(2)
    console.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(4)
    console.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(6)
    texts = rows.all_inner_texts()
    assert len(set(texts)) == len(texts), texts
    when = [t.split("\t")[0] for t in texts]
    assert when == sorted(when, reverse=True), "newest first across pages"


def test_analytics_lists_a_user_who_spent(console, api, stack_url, unique):
    user = f"spender-{unique}"
    api.record(user, "7.25")
    open_page(console, stack_url, "analytics")
    row = console.locator("tbody tr", has_text=user)
    expect(row).to_contain_text("$7.25")
    expect(console.get_by_role("heading", name=re.compile("Daily totals"))).to_be_visible()


def test_inspector_colours_windows_at_soft_90_and_100(console, api, stack_url, unique):
    tier, user = f"bars-{unique}", f"ivan-{unique}"
    api.ok("POST", "/tiers", {"tierId": tier, "tierName": "Bars", "dailyCostLimit": "1.00", "softLimitPercentage": 50})
    api.ok("POST", "/assignments", {"assignmentType": "direct_user", "userId": user, "tierId": tier})
    daily = console.locator(".windows.own .window", has_text="daily cost")
    open_page(console, stack_url, "users")
    console.get_by_label("User id").fill(user)
    console.get_by_label("Roles").fill("Faculty")
    console.get_by_role("button", name="Inspect").click()
    expect(daily).to_have_attribute("data-level", "ok")
    candidates = console.locator("tbody tr")
    expect(candidates.filter(has_text="Selected")).to_contain_text(tier)
    expect(candidates.filter(has_text="jwt_role:Faculty")).to_contain_text("Lost: a match with higher precedence")
    for cost, level in [("0.60", "soft"), ("0.35", "high"), ("0.05", "over")]:
        api.record(user, cost)
        console.reload()
        expect(daily).to_have_attribute("data-level", level)
    expect(daily.get_by_role("meter")).to_have_attribute("aria-valuenow", "100")
    # The next check is refused, which stores the block event.
    assert api.call("POST", "/check", {"userId": user}, admin=False)[0] == 429
    console.reload()
    recent = console.locator("section li", has_text="daily")
    expect(recent.filter(has_text="block")).to_have_count(1)
    expect(recent.filter(has_text="warning")).not_to_have_count(0)
    shoot(console, "users-over-limit")
    assert accessibility_violations(console) == []


def test_keyboard_alone_reaches_a_page_and_submits_a_form(console, api, unique):
    # The page opens with its heading focused; the navigation is behind it.
    for _ in range(10):
        console.keyboard.press("Shift+Tab")
        if console.evaluate("document.activeElement.textContent") == "User inspector":
            break
    console.keyboard.press("Enter")
    heading = console.get_by_role("heading", name="User inspector", level=1)
    expect(heading).to_be_focused()
    console.keyboard.press("Tab")
    expect(console.get_by_label("User id")).to_be_focused()
    console.keyboard.type("bob")
    console.keyboard.press("Enter")
    expect(console.get_by_role("heading", name=re.compile("^bob: "))).to_be_visible()


AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"


def accessibility_violations(page):
    """axe-core's audit of the page (WCAG 2.1 A and AA rules): the violations, as text."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const result = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
        return result.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.length} × ${v.nodes[0].target.join(' ')}`);
    }""")
    return found


def test_every_page_is_readable_at_375_px(console, api, stack_url, unique):
    # dora is on the strict demo tier (cost, token and request windows): hold a reservation.
    check = {"userId": "dora", "requestId": f"shot-{unique}", "estimatedCost": "0.10", "estimatedTokens": 500}
    assert api.call("POST", "/check", check, admin=False)[0] == 200
    for width, suffix in [(1280, ""), (375, "-375")]:
        console.set_viewport_size({"width": width, "height": 800})
        for name in PAGES:
            open_page(console, stack_url, name + ("?userId=dora" if name == "users" else ""))
            console.locator("h1").wait_for()
            expect(console.get_by_text("Loading…")).to_have_count(0)
            expect(console.locator("tbody tr").first).to_be_visible()
            if name == "users":
                # The hold counts against dora's limits before any usage does.
                own = console.locator(".windows.own .window")
                expect(own.filter(has_text="daily cost")).to_contain_text("$0.10 held by 1 open reservation")
                expect(own.filter(has_text="monthly tokens")).to_contain_text("500 tokens held")
            overflow = console.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} is {overflow} px wide at {width} px"
            # A field the API never returned would show as one of these.
            shown = console.locator("main").inner_text()
            assert not re.search(r"\b(undefined|NaN|null|\[object Object\])\b", shown), (name, shown)
            assert accessibility_violations(console) == [], name
            shoot(console, name + suffix)


def deployed_csp():
    """The content security policy CloudFront sends with the console (from the
    template `make infra-test` synthesizes), its API origin made local."""
    template = ROOT / "infra" / "cdk.out.test" / "Quota-dev.template.json"
    resources = json.loads(template.read_text())["Resources"].values()
    [policy] = [r for r in resources if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"]
    csp = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    value = csp["ContentSecurityPolicy"]
    if isinstance(value, dict):  # Fn::Join with the region as a token
        value = "".join(part if isinstance(part, str) else "region" for part in value["Fn::Join"][1])
    return value


def test_the_console_runs_under_its_deployed_content_security_policy(page, stack_url, admin_token):
    csp = deployed_csp()
    assert "script-src 'self' 'sha256-" in csp

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": csp})

    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.route(re.compile(r".*/console/(#.*)?$"), with_csp)
    page.goto(f"{stack_url}/console/#token={admin_token}")
    expect(page.get_by_role("heading", name="Tiers", level=1)).to_be_visible()
    page.goto(f"{stack_url}/console/#/users?userId=bob")
    expect(page.locator(".window").first).to_be_visible()
    # Widths are set through the CSSOM, which the policy allows without 'unsafe-inline'.
    # bob's own window (the demo's lab pools his spending too: its windows follow).
    monthly = page.locator(".windows.own .window", has_text="monthly cost")
    fill = monthly.locator(".fill")
    share = fill.evaluate("e => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width")
    used = float(monthly.get_by_role("meter").get_attribute("aria-valuenow"))
    assert 0 < used < 100 and abs(share * 100 - used) < 1, (share, used)
    assert "'unsafe-inline'" not in csp
    assert violations == []


@pytest.fixture
def oidc(page, admin_token):
    """The page with a deployed console's configuration: OIDC against a stand-in provider."""
    idp = FakeIdp(admin_token)
    config = json.dumps({
        "apiUrl": "",
        "auth": {"mode": "oidc", "authorizeUrl": f"{idp.url}/authorize", "tokenUrl": f"{idp.url}/token", "clientId": "quota-admin"},
    })
    page.route("**/console/config.json", lambda route: route.fulfill(content_type="application/json", body=config))
    yield idp
    idp.close()


def test_oidc_sign_in_with_pkce(page, oidc, stack_url):
    """The AWS sign-in: code + PKCE (S256), the ID token sent to the API."""
    page.goto(f"{stack_url}/console/")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tiers", level=1)).to_be_visible()
    expect(page.locator("tbody tr", has_text="basic").first).to_be_visible()
    assert "code=" not in page.url and "state=" not in page.url
    [(_, authorize), (_, token)] = oidc.requests
    assert authorize["client_id"] == "quota-admin" and authorize["redirect_uri"] == f"{stack_url}/console/"
    assert authorize["scope"] == "openid email profile"
    assert len(token["code_verifier"]) >= 43 and token["code_verifier"] not in str(authorize)


def test_a_deployed_console_takes_no_token_from_a_link(page, oidc, stack_url, admin_token):
    page.goto(f"{stack_url}/console/#token={admin_token}")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.length") == 0


def test_oidc_answer_for_another_tab_is_refused(page, oidc, stack_url):
    page.goto(f"{stack_url}/console/?code=stolen&state=forged")
    expect(page.get_by_role("alert")).to_contain_text("did not match this tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert oidc.requests == []
