from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from omni.accounts import service as accounts_service
from omni.accounts.errors import AccountError, EmailTaken
from omni.accounts.models import LoginSession
from omni.accounts.roles import Role
from omni.accounts.schemas import UserCreate, UserRead
from omni.catalog.schemas import LocationKind
from omni.kit.time import utc_now
from tests.builders import PASSWORD, make_location, make_user


def _new_user(email: str, *, role: Role = Role.ADMIN, store_code: str | None = None) -> UserCreate:
    return UserCreate(
        email=email, display_name="Mei Lin", password=PASSWORD, role=role, store_code=store_code
    )


def test_create_user_normalises_the_email_and_hashes_the_password(session: Session) -> None:
    # when
    user = accounts_service.create_user(session, _new_user("  Mei.Lin@Shop.Example "))
    # then
    assert user.email == "mei.lin@shop.example"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert (user.role, user.store_code, user.is_active, user.last_login_at) == ("admin", None, True, None)
    assert accounts_service.find_user(session, "MEI.LIN@shop.example") == user


@pytest.mark.parametrize(
    "second_email",
    [
        pytest.param("mei@shop.example", id="same-spelling"),
        pytest.param("MEI@Shop.Example", id="other-case"),
    ],
)
def test_create_user_rejects_a_taken_email(session: Session, second_email: str) -> None:
    accounts_service.create_user(session, _new_user("mei@shop.example"))
    with pytest.raises(EmailTaken) as caught:
        accounts_service.create_user(session, _new_user(second_email))
    assert caught.value.message == "a user with email mei@shop.example already exists"
    assert caught.value.status_code == 409


def test_create_store_staff_bound_to_an_existing_store(session: Session) -> None:
    make_location(session, code="TPE-XINYI")
    user = accounts_service.create_user(
        session, _new_user("staff@shop.example", role=Role.STORE_STAFF, store_code="TPE-XINYI")
    )
    assert (user.role, user.store_code) == ("store_staff", "TPE-XINYI")


def test_store_staff_needs_an_existing_store(session: Session) -> None:
    with pytest.raises(AccountError) as caught:
        accounts_service.create_user(
            session, _new_user("staff@shop.example", role=Role.STORE_STAFF, store_code="NOWHERE")
        )
    assert caught.value.message == "there is no store with code NOWHERE"
    assert caught.value.status_code == 422
    assert accounts_service.find_user(session, "staff@shop.example") is None


@pytest.mark.parametrize(
    "kind",
    [pytest.param(LocationKind.WAREHOUSE, id="warehouse"), pytest.param(LocationKind.ONLINE, id="online")],
)
def test_store_staff_cannot_be_bound_to_a_location_that_is_not_a_store(
    session: Session, kind: LocationKind
) -> None:
    make_location(session, code="TAOYUAN-DC", kind=kind)
    with pytest.raises(AccountError) as caught:
        accounts_service.create_user(
            session, _new_user("staff@shop.example", role=Role.STORE_STAFF, store_code="TAOYUAN-DC")
        )
    assert caught.value.message == "there is no store with code TAOYUAN-DC"


def test_list_users_by_email(session: Session) -> None:
    make_user(session, email="zoe@shop.example")
    make_user(session, email="amy@shop.example", role=Role.MARKETER)
    assert [user.email for user in accounts_service.list_users(session)] == [
        "amy@shop.example",
        "zoe@shop.example",
    ]


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("mei@shop.example", id="as-stored"),
        pytest.param(" MEI@shop.example ", id="other-case-and-spaces"),
    ],
)
def test_authenticate_with_the_right_password(session: Session, email: str) -> None:
    user = make_user(session, email="mei@shop.example")
    assert accounts_service.authenticate(session, email=email, password=PASSWORD) == user


@pytest.mark.parametrize(
    ("email", "password"),
    [
        pytest.param("mei@shop.example", "wrong password!", id="wrong-password"),
        pytest.param("mei@shop.example", PASSWORD.upper(), id="password-is-case-sensitive"),
        pytest.param("mei@shop.example", "", id="empty-password"),
        pytest.param("nobody@shop.example", PASSWORD, id="unknown-email"),
    ],
)
def test_authenticate_refuses(session: Session, email: str, password: str) -> None:
    make_user(session, email="mei@shop.example")
    assert accounts_service.authenticate(session, email=email, password=password) is None


def test_authenticate_refuses_an_inactive_user(session: Session) -> None:
    user = make_user(session, email="mei@shop.example")
    user.is_active = False
    assert accounts_service.authenticate(session, email="mei@shop.example", password=PASSWORD) is None


def test_started_session_resolves_to_its_user(session: Session) -> None:
    # given
    user = make_user(session, role=Role.MARKETER)
    # when
    started = accounts_service.start_session(session, user, hours=12)
    active = accounts_service.resolve_session(session, started.token)
    # then
    assert active is not None
    assert active.user == UserRead.model_validate(user)
    assert (active.user.id, active.role, active.csrf_token) == (user.id, Role.MARKETER, started.csrf_token)
    assert user.last_login_at is not None
    assert started.token != started.csrf_token


def test_only_a_hash_of_the_session_token_is_stored(session: Session) -> None:
    user = make_user(session)
    started = accounts_service.start_session(session, user, hours=12)
    stored = session.query(LoginSession).one()
    assert stored.token_hash != started.token
    assert len(stored.token_hash) == 64


def test_unknown_token_resolves_to_nothing(session: Session) -> None:
    user = make_user(session)
    accounts_service.start_session(session, user, hours=12)
    assert accounts_service.resolve_session(session, "not-a-token") is None


def test_ended_session_resolves_to_nothing(session: Session) -> None:
    # given two sessions of one user
    user = make_user(session)
    ended = accounts_service.start_session(session, user, hours=12)
    other = accounts_service.start_session(session, user, hours=12)
    # when
    accounts_service.end_session(session, ended.token)
    # then
    assert accounts_service.resolve_session(session, ended.token) is None
    assert accounts_service.resolve_session(session, other.token) is not None


def test_expired_session_resolves_to_nothing(session: Session) -> None:
    user = make_user(session)
    started = accounts_service.start_session(session, user, hours=1)
    session.execute(update(LoginSession).values(expires_at=utc_now() - timedelta(seconds=1)))
    assert accounts_service.resolve_session(session, started.token) is None


def test_session_of_a_deactivated_user_resolves_to_nothing(session: Session) -> None:
    user = make_user(session)
    started = accounts_service.start_session(session, user, hours=12)
    user.is_active = False
    assert accounts_service.resolve_session(session, started.token) is None


def test_starting_a_session_removes_expired_ones(session: Session) -> None:
    user = make_user(session)
    old = accounts_service.start_session(session, user, hours=1)
    session.execute(update(LoginSession).values(expires_at=utc_now() - timedelta(minutes=5)))
    accounts_service.start_session(session, user, hours=12)
    assert session.query(LoginSession).count() == 1
    assert accounts_service.resolve_session(session, old.token) is None
