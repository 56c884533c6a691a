"""Use cases of staff accounts: create users, log in and out, resolve a session cookie."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from omni.accounts.errors import AccountError, EmailTaken
from omni.accounts.models import LoginSession, User
from omni.accounts.roles import Role
from omni.accounts.schemas import UserCreate, UserRead
from omni.catalog import service as catalog_service
from omni.catalog.schemas import LocationKind
from omni.kit.time import utc_now

_hasher = PasswordHasher()
# Verifying against a real hash for unknown emails makes a wrong email cost what a wrong password does.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class StartedSession:
    token: str
    csrf_token: str


@dataclass(frozen=True)
class ActiveSession:
    # A snapshot, not the ORM row: error pages still show who is logged in after the request's
    # transaction has rolled back and expired every row it loaded.
    user: UserRead
    csrf_token: str

    @property
    def role(self) -> Role:
        return Role(self.user.role)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session: Session, data: UserCreate) -> User:
    """Create a staff user with an argon2-hashed password."""
    if session.scalar(select(User.id).where(User.email == data.email)) is not None:
        raise EmailTaken(f"a user with email {data.email} already exists")
    if data.store_code:
        store = catalog_service.find_location(session, data.store_code)
        # A warehouse or an online shop has no shop floor to serve customers on.
        if store is None or store.kind != LocationKind.STORE:
            raise AccountError(f"there is no store with code {data.store_code}")
    user = User(
        email=data.email,
        display_name=data.display_name,
        password_hash=_hasher.hash(data.password),
        role=data.role.value,
        store_code=data.store_code,
        is_active=True,
        created_at=utc_now(),
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> Sequence[User]:
    """All staff users, by email."""
    return session.scalars(select(User).order_by(User.email)).all()


def find_user(session: Session, email: str) -> User | None:
    """The user with this email, if any."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user whose email and password match, or None."""
    user = find_user(session, email)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def start_session(session: Session, user: User, *, hours: int) -> StartedSession:
    """Open a login session for user; the returned token goes in the cookie and is stored only hashed."""
    now = utc_now()
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    session.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    user.last_login_at = now
    return StartedSession(token=token, csrf_token=csrf_token)


def resolve_session(session: Session, token: str) -> ActiveSession | None:
    """The live session behind a cookie token, or None when unknown, expired or the user is disabled."""
    row = session.execute(
        select(LoginSession, User)
        .join(User, User.id == LoginSession.user_id)
        .where(LoginSession.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return None
    login, user = row
    if login.expires_at <= utc_now() or not user.is_active:
        return None
    return ActiveSession(user=UserRead.model_validate(user), csrf_token=login.csrf_token)


def end_session(session: Session, token: str) -> None:
    """Log the session behind token out."""
    session.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
