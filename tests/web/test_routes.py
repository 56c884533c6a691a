from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from omni import __version__
from omni.accounts import service as accounts_service
from omni.accounts.models import User
from omni.accounts.roles import Role
from omni.db.engine import Database
from tests.builders import PASSWORD, make_location, make_user

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
ERROR_LINES = re.compile(r'<p class="error" role="alert">(.*?)</p>')
NAV = re.compile(r'<nav class="sections"[^>]*>(.*?)</nav>', re.DOTALL)
NAV_SECTION = re.compile(r'data-section="([a-z]+)"')
HTML_LANG = re.compile(r'<html lang="([^"]+)">')
H1 = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)
ENGLISH = {"accept-language": "en"}

SECTION_PATHS = {
    "overview": "/",
    "customers": "/customers",
    "segments": "/segments",
    "journeys": "/journeys",
    "catalog": "/catalog",
    "orders": "/orders",
    "loyalty": "/loyalty",
    "analytics": "/analytics",
    "settings": "/settings",
}
# The product's permission matrix, written out: head office does campaigns, analytics and settings.
ALLOWED = {
    Role.ADMIN: list(SECTION_PATHS),
    Role.MARKETER: [
        "overview",
        "customers",
        "segments",
        "journeys",
        "catalog",
        "orders",
        "loyalty",
        "analytics",
    ],
    Role.STORE_STAFF: ["overview", "customers", "catalog", "orders", "loyalty"],
}
MATRIX = [
    pytest.param(
        role,
        path,
        200 if section in ALLOWED[role] else 403,
        id=f"{role.value}-{section}-{200 if section in ALLOWED[role] else 403}",
    )
    for role in Role
    for section, path in SECTION_PATHS.items()
]


def _user(database: Database, role: Role = Role.ADMIN, *, email: str | None = None) -> User:
    with database.unit_of_work() as session:
        return make_user(session, role=role, email=email)


def _csrf(page: str) -> str:
    match = CSRF_FIELD.search(page)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def _log_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303


def _nav_sections(page: str) -> list[str]:
    nav = NAV.search(page)
    return NAV_SECTION.findall(nav.group(1)) if nav else []


def _errors(page: str) -> list[str]:
    return [html.unescape(line) for line in ERROR_LINES.findall(page)]


@pytest.mark.parametrize(
    ("path", "login_url"),
    [
        pytest.param("/", "/login?next=%2F", id="overview"),
        pytest.param("/settings", "/login?next=%2Fsettings", id="settings"),
        pytest.param("/customers?channel=pos", "/login?next=%2Fcustomers%3Fchannel%3Dpos", id="with-query"),
        pytest.param("/partials/recent-events", "/login?next=%2Fpartials%2Frecent-events", id="partial"),
        pytest.param("/segments", "/login?next=%2Fsegments", id="segments"),
        pytest.param("/journeys", "/login?next=%2Fjourneys", id="journeys"),
        pytest.param("/loyalty?active=1", "/login?next=%2Floyalty%3Factive%3D1", id="loyalty-with-query"),
    ],
)
def test_page_without_login_redirects_to_the_login_form(
    client: TestClient, path: str, login_url: str
) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == login_url


def test_login_form_binds_its_csrf_token_to_a_cookie(client: TestClient) -> None:
    # when
    response = client.get("/login")
    # then
    assert response.status_code == 200
    assert response.cookies["omni_login_csrf"] == _csrf(response.text)
    assert len(_csrf(response.text)) >= 32


def test_login_through_the_form_opens_a_session(client: TestClient, committed: Database) -> None:
    # given
    user = _user(committed, email="mei@shop.example")
    token = _csrf(client.get("/login").text)
    # when
    response = client.post(
        "/login",
        data={"email": "MEI@shop.example", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    # then
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "omni_login_csrf" not in client.cookies
    overview = client.get("/", follow_redirects=False)
    assert overview.status_code == 200
    assert f'<span class="who" data-role="admin">{user.display_name} · 系統管理員</span>' in overview.text


def test_login_returns_to_the_page_asked_for(client: TestClient, committed: Database) -> None:
    # given a visit to a page before logging in
    _user(committed, email="mei@shop.example")
    login_url = client.get("/orders?channel=pos", follow_redirects=False).headers["location"]
    form = client.get(login_url).text
    assert 'name="next" value="/orders?channel=pos"' in form
    # when
    response = client.post(
        "/login",
        data={
            "email": "mei@shop.example",
            "password": PASSWORD,
            "csrf_token": _csrf(form),
            "next": "/orders?channel=pos",
        },
        follow_redirects=False,
    )
    # then
    assert response.headers["location"] == "/orders?channel=pos"


@pytest.mark.parametrize(
    "next_path",
    [
        pytest.param("https://evil.example/", id="absolute-url"),
        pytest.param("//evil.example/", id="scheme-relative"),
        pytest.param("/\\evil.example/", id="backslash"),
        pytest.param("\\\\evil.example", id="double-backslash"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("evil.example", id="no-leading-slash"),
    ],
)
def test_login_never_redirects_off_site(client: TestClient, committed: Database, next_path: str) -> None:
    _user(committed, email="mei@shop.example")
    form = client.get("/login", params={"next": next_path}).text
    assert 'name="next" value="/"' in form
    response = client.post(
        "/login",
        data={
            "email": "mei@shop.example",
            "password": PASSWORD,
            "csrf_token": _csrf(form),
            "next": next_path,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        pytest.param(ENGLISH, "Wrong email or password.", id="en"),
        pytest.param({}, "電子郵件或密碼錯誤。", id="zh-tw-default"),
    ],
)
def test_wrong_password_shows_the_form_again(
    client: TestClient, committed: Database, headers: dict[str, str], message: str
) -> None:
    # given
    _user(committed, email="mei@shop.example")
    token = _csrf(client.get("/login", headers=headers).text)
    # when
    response = client.post(
        "/login",
        data={"email": "mei@shop.example", "password": "not the password", "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
    # then
    assert response.status_code == 401
    assert _errors(response.text) == [message]
    assert "omni_session" not in client.cookies
    assert _csrf(response.text) == response.cookies["omni_login_csrf"]


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client: TestClient) -> None:
    token = _csrf(client.get("/login", headers=ENGLISH).text)
    response = client.post(
        "/login",
        data={"email": "nobody@shop.example", "password": PASSWORD, "csrf_token": token},
        headers=ENGLISH,
    )
    assert response.status_code == 401
    assert _errors(response.text) == ["Wrong email or password."]


@pytest.mark.parametrize(
    ("field", "cookie"),
    [
        pytest.param(None, True, id="no-field"),
        pytest.param("forged-token-forged-token-forged-token", True, id="wrong-field"),
        pytest.param("", True, id="empty-field"),
        pytest.param("copied", False, id="no-cookie"),
    ],
)
def test_login_without_the_csrf_token_is_refused(
    client: TestClient, committed: Database, field: str | None, cookie: bool
) -> None:
    # given
    _user(committed, email="mei@shop.example")
    token = _csrf(client.get("/login", headers=ENGLISH).text)
    if not cookie:
        client.cookies.clear()
    data = {"email": "mei@shop.example", "password": PASSWORD}
    if field is not None:
        data["csrf_token"] = token if field == "copied" else field
    # when
    response = client.post("/login", data=data, headers=ENGLISH, follow_redirects=False)
    # then
    assert response.status_code == 403
    assert H1.findall(response.text) == ["403 · Not allowed"]
    assert (
        "<p>The form has expired or did not come from Omni. Reload the page and try again.</p>"
        in response.text
    )
    assert "omni_session" not in client.cookies


def test_logout_needs_the_session_csrf_token(client: TestClient, committed: Database) -> None:
    # given
    _user(committed, email="mei@shop.example")
    _log_in(client, "mei@shop.example")
    # when
    response = client.post("/logout", data={"csrf_token": "guess"}, follow_redirects=False)
    # then
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200


@pytest.mark.parametrize(
    "via", [pytest.param("form", id="form-field"), pytest.param("htmx", id="htmx-header")]
)
def test_logout_ends_the_session(client: TestClient, committed: Database, via: str) -> None:
    # given
    _user(committed, email="mei@shop.example")
    _log_in(client, "mei@shop.example")
    session_token = client.cookies["omni_session"]
    csrf = _csrf(client.get("/").text)
    # when
    if via == "form":
        response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    else:
        response = client.post("/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    # then
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "omni_session" not in client.cookies
    client.cookies.set("omni_session", session_token)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"


@pytest.mark.parametrize(("role", "path", "status"), MATRIX)
def test_role_may_open_only_its_sections(
    client: TestClient, committed: Database, role: Role, path: str, status: int
) -> None:
    # given
    user = _user(committed, role)
    _log_in(client, user.email)
    # when
    response = client.get(path, headers=ENGLISH, follow_redirects=False)
    # then
    assert response.status_code == status
    if status == 403:
        assert H1.findall(response.text) == ["403 · Not allowed"]
        assert "Your role may not use this page. Ask an administrator if you need it." in response.text


@pytest.mark.parametrize("role", [pytest.param(role, id=role.value) for role in Role])
def test_navigation_shows_only_the_allowed_sections(
    client: TestClient, committed: Database, role: Role
) -> None:
    user = _user(committed, role)
    _log_in(client, user.email)
    assert _nav_sections(client.get("/").text) == ALLOWED[role]


def test_forbidden_page_keeps_the_navigation_of_the_role(client: TestClient, committed: Database) -> None:
    user = _user(committed, Role.STORE_STAFF)
    _log_in(client, user.email)
    assert _nav_sections(client.get("/settings").text) == ALLOWED[Role.STORE_STAFF]


def test_login_page_has_no_navigation(client: TestClient) -> None:
    assert _nav_sections(client.get("/login").text) == []


@pytest.mark.parametrize(
    ("locale", "html_lang", "overview", "logout"),
    [
        pytest.param("en", "en", "Overview", "Log out", id="en"),
        pytest.param("zh_TW", "zh-TW", "總覽", "登出", id="zh-tw"),
    ],
)
def test_language_link_switches_the_page_language(
    client: TestClient, committed: Database, locale: str, html_lang: str, overview: str, logout: str
) -> None:
    # given a user whose browser asks for the other language
    _user(committed, email="mei@shop.example")
    _log_in(client, "mei@shop.example")
    browser = {"accept-language": "en" if locale == "zh_TW" else "zh-TW"}
    # when
    switched = client.get(f"/language/{locale}", params={"next": "/catalog"}, follow_redirects=False)
    page = client.get("/", headers=browser)
    # then
    assert switched.status_code == 303
    assert switched.headers["location"] == "/catalog"
    assert HTML_LANG.findall(page.text) == [html_lang]
    assert H1.findall(page.text) == [overview]
    assert f'<a href="/" data-section="overview" aria-current="page">{overview}</a>' in page.text
    assert f'<button type="submit" class="link">{logout}</button>' in page.text


def test_browser_language_applies_before_any_choice(client: TestClient) -> None:
    english = client.get("/login", headers={"accept-language": "en-US,en;q=0.9"})
    chinese = client.get("/login", headers={"accept-language": "zh-TW,zh;q=0.9"})
    assert (HTML_LANG.findall(english.text), H1.findall(english.text)) == (["en"], ["Log in to Omni"])
    assert (HTML_LANG.findall(chinese.text), H1.findall(chinese.text)) == (["zh-TW"], ["登入 Omni"])


@pytest.mark.parametrize(
    ("path", "location", "cookie"),
    [
        pytest.param("/language/fr?next=/orders", "/orders", None, id="unknown-language-ignored"),
        pytest.param("/language/en?next=//evil.example", "/", "en", id="off-site-next"),
        pytest.param("/language/en?next=https://evil.example", "/", "en", id="absolute-next"),
        pytest.param("/language/en", "/", "en", id="no-next"),
    ],
)
def test_language_link_stays_on_site(
    client: TestClient, path: str, location: str, cookie: str | None
) -> None:
    response = client.get(path, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, location)
    assert response.cookies.get("omni_lang") == cookie


def _settings_form(client: TestClient, **fields: str) -> dict[str, str]:
    form = {
        "csrf_token": _csrf(client.get("/settings").text),
        "display_name": "Chen Wei",
        "email": "chen@shop.example",
        "password": "a long enough password",
        "role": "marketer",
        "store_code": "",
    }
    form.update(fields)
    return form


def test_admin_adds_a_user_on_the_settings_page(client: TestClient, committed: Database) -> None:
    # given
    with committed.unit_of_work() as session:
        admin = make_user(session, email="boss@shop.example")
        make_location(session, code="TPE-XINYI")
    _log_in(client, admin.email)
    # when
    response = client.post(
        "/settings/users",
        data=_settings_form(client, email="Chen@Shop.Example", role="store_staff", store_code="TPE-XINYI"),
        follow_redirects=False,
    )
    # then
    assert (response.status_code, response.headers["location"]) == (303, "/settings")
    listing = client.get("/settings", headers=ENGLISH).text
    assert "<tr><td>Chen Wei</td><td>chen@shop.example</td><td>store_staff</td><td>TPE-XINYI</td>" in listing
    with committed.unit_of_work() as session:
        created = accounts_service.authenticate(
            session, email="chen@shop.example", password="a long enough password"
        )
        assert created is not None
        assert (created.role, created.store_code) == ("store_staff", "TPE-XINYI")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"role": "store_staff", "store_code": ""},
            "form: Value error, store staff must be bound to a store (store_code)",
            id="store-staff-without-store",
        ),
        pytest.param(
            {"role": "store_staff", "store_code": "NOWHERE"},
            "there is no store with code NOWHERE",
            id="unknown-store",
        ),
        pytest.param(
            {"email": "BOSS@shop.example"},
            "a user with email boss@shop.example already exists",
            id="duplicate-email",
        ),
        pytest.param(
            {"password": "short"}, "password: String should have at least 10 characters", id="short-password"
        ),
        pytest.param(
            {"email": "not-an-email"}, "email: Value error, is not an email address", id="bad-email"
        ),
        pytest.param(
            {"role": "owner"}, "role: Input should be 'admin', 'marketer' or 'store_staff'", id="bad-role"
        ),
    ],
)
def test_invalid_new_user_is_refused_with_the_reason(
    client: TestClient, committed: Database, fields: dict[str, str], message: str
) -> None:
    # given
    admin = _user(committed, email="boss@shop.example")
    _log_in(client, admin.email)
    # when
    response = client.post("/settings/users", data=_settings_form(client, **fields), headers=ENGLISH)
    # then
    assert response.status_code == 422
    assert _errors(response.text) == [message]
    with committed.unit_of_work() as session:
        assert [user.email for user in accounts_service.list_users(session)] == ["boss@shop.example"]


def test_refused_new_user_form_keeps_what_was_typed(client: TestClient, committed: Database) -> None:
    admin = _user(committed, email="boss@shop.example")
    _log_in(client, admin.email)
    response = client.post("/settings/users", data=_settings_form(client, password="short"))
    assert 'name="display_name" value="Chen Wei"' in response.text
    assert 'name="email" value="chen@shop.example"' in response.text
    assert '<option value="marketer" selected>' in response.text


@pytest.mark.parametrize(
    "csrf_token", [pytest.param(None, id="missing"), pytest.param("forged", id="forged")]
)
def test_new_user_without_the_csrf_token_is_refused(
    client: TestClient, committed: Database, csrf_token: str | None
) -> None:
    # given
    admin = _user(committed, email="boss@shop.example")
    _log_in(client, admin.email)
    form = _settings_form(client)
    del form["csrf_token"]
    if csrf_token is not None:
        form["csrf_token"] = csrf_token
    # when
    response = client.post("/settings/users", data=form, headers=ENGLISH)
    # then
    assert response.status_code == 403
    assert (
        "<p>The form has expired or did not come from Omni. Reload the page and try again.</p>"
        in response.text
    )
    with committed.unit_of_work() as session:
        assert accounts_service.find_user(session, "chen@shop.example") is None


def test_marketer_cannot_add_users(client: TestClient, committed: Database) -> None:
    marketer = _user(committed, Role.MARKETER)
    _log_in(client, marketer.email)
    csrf = _csrf(client.get("/").text)
    form = {
        "csrf_token": csrf,
        "display_name": "Chen Wei",
        "email": "chen@shop.example",
        "password": "a long enough password",
        "role": "admin",
    }
    response = client.post("/settings/users", data=form)
    assert response.status_code == 403
    with committed.unit_of_work() as session:
        assert accounts_service.find_user(session, "chen@shop.example") is None


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "message"),
    [
        pytest.param("GET", "/v1/nope", 404, "not_found", "Not Found", id="unknown-api-path"),
        pytest.param("POST", "/healthz", 405, "method_not_allowed", "Method Not Allowed", id="wrong-method"),
        pytest.param("GET", "/static/nope.css", 404, "not_found", "Not Found", id="unknown-static-file"),
    ],
)
def test_api_errors_have_one_json_shape(
    client: TestClient, method: str, path: str, status: int, code: str, message: str
) -> None:
    response = client.request(method, path, headers={"X-Request-ID": "req-42"})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": {"code": code, "message": message, "details": [], "request_id": "req-42"}
    }


def test_unknown_page_is_an_html_error_page(client: TestClient) -> None:
    response = client.get("/nope", headers=ENGLISH)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert H1.findall(response.text) == ["404 · Not found"]


def test_healthz_names_the_database(client: TestClient, committed: Database) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "database": committed.dialect}


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        pytest.param("abc-123.XYZ_9", True, id="sane-id-echoed"),
        pytest.param(None, False, id="absent-generated"),
        pytest.param("has spaces", False, id="unsafe-replaced"),
        pytest.param("x" * 101, False, id="too-long-replaced"),
    ],
)
def test_request_id_is_echoed_or_generated(client: TestClient, sent: str | None, kept: bool) -> None:
    response = client.get("/v1/nope", headers={"X-Request-ID": sent} if sent else {})
    echoed = response.headers["x-request-id"]
    assert response.json()["error"]["request_id"] == echoed
    if kept:
        assert echoed == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{16}", echoed)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/login", id="page"),
        pytest.param("/healthz", id="api"),
        pytest.param("/v1/nope", id="api-error"),
        pytest.param("/static/css/omni.css", id="static"),
    ],
)
def test_security_headers_on_every_answer(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["content-security-policy"] == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'"
    )


def test_cookies_are_http_only_and_same_site_lax(client: TestClient, committed: Database) -> None:
    # given
    _user(committed, email="mei@shop.example")
    login_form = client.get("/login")
    # when
    logged_in = client.post(
        "/login",
        data={"email": "mei@shop.example", "password": PASSWORD, "csrf_token": _csrf(login_form.text)},
        follow_redirects=False,
    )
    # then
    (login_csrf_cookie,) = login_form.headers.get_list("set-cookie")
    session_cookie = next(
        c for c in logged_in.headers.get_list("set-cookie") if c.startswith("omni_session=")
    )
    for cookie in (login_csrf_cookie, session_cookie):
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= attributes
        assert "secure" not in attributes
    assert "max-age=43200" in session_cookie.lower()
