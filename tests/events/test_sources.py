from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from omni.db.engine import Database
from omni.events import sources as events_sources
from omni.events.errors import SourceNameTaken, SourceNotFound
from omni.events.models import Source
from omni.events.schemas import CreatedSource, SourceCreate, SourceKind


def _create(session: Session, **fields: object) -> CreatedSource:
    return events_sources.create_source(session, SourceCreate.model_validate(fields))


def test_create_returns_the_key_once_and_stores_only_its_hash(session: Session) -> None:
    # when
    created = _create(session, name="webshop", kind="web")
    # then the key is returned, and the row holds its SHA-256 and a short prefix, never the key
    stored = session.scalars(select(Source)).one()
    assert created.write_key.startswith("wk_")
    assert len(created.write_key) == 35
    assert stored.key_hash == hashlib.sha256(created.write_key.encode()).hexdigest()
    assert stored.key_prefix == created.write_key[:10]
    assert created.write_key not in {str(getattr(stored, c.key)) for c in Source.__table__.columns}
    assert (created.source.key, created.source.default_channel) == ("web:webshop", "web")


def test_two_sources_get_different_keys(session: Session) -> None:
    first = _create(session, name="webshop", kind="web")
    second = _create(session, name="ios", kind="app")
    assert first.write_key != second.write_key


def test_authenticate_accepts_the_key_and_nothing_else(session: Session) -> None:
    created = _create(session, name="webshop", kind="web")
    assert events_sources.authenticate(session, created.write_key).name == "webshop"  # type: ignore[union-attr]
    assert events_sources.authenticate(session, created.write_key + "x") is None
    assert events_sources.authenticate(session, created.write_key[:-1]) is None
    assert events_sources.authenticate(session, "") is None


def test_a_revoked_key_no_longer_authenticates_and_revoking_again_keeps_the_first_time(
    session: Session,
) -> None:
    # given
    created = _create(session, name="webshop", kind="web")
    # when
    first = events_sources.revoke_source(session, "webshop").revoked_at
    second = events_sources.revoke_source(session, "webshop").revoked_at
    # then
    assert first is not None
    assert second == first
    assert events_sources.authenticate(session, created.write_key) is None
    assert events_sources.active_source_ids(session, {created.source.id}) == set()


def test_revoking_an_unknown_source_is_not_found(session: Session) -> None:
    with pytest.raises(SourceNotFound) as caught:
        events_sources.revoke_source(session, "nope")
    assert (caught.value.status_code, caught.value.message) == (404, "there is no source named nope")


def test_names_are_unique(session: Session) -> None:
    _create(session, name="webshop", kind="web")
    with pytest.raises(SourceNameTaken) as caught:
        _create(session, name="webshop", kind="app")
    assert caught.value.status_code == 409


def test_a_pos_source_is_named_after_its_store(session: Session) -> None:
    created = _create(session, kind="pos", store_code="TPE-XINYI")
    assert (created.source.name, created.source.key, created.source.store_code) == (
        "TPE-XINYI",
        "pos:TPE-XINYI",
        "TPE-XINYI",
    )
    assert created.source.default_channel == "pos"


def test_list_is_by_name_and_can_leave_out_revoked(session: Session) -> None:
    for name in ("web-b", "web-a", "web-c"):
        _create(session, name=name, kind="web")
    events_sources.revoke_source(session, "web-b")
    assert [s.name for s in events_sources.list_sources(session)] == ["web-a", "web-b", "web-c"]
    assert [s.name for s in events_sources.list_sources(session, include_revoked=False)] == ["web-a", "web-c"]


@pytest.mark.parametrize(
    ("kind", "channel"),
    [("web", "web"), ("app", "app"), ("pos", "pos"), ("crm", "crm"), ("marketplace", "marketplace")],
    ids=["web", "app", "pos", "crm", "marketplace"],
)
def test_each_kind_has_its_default_channel(kind: str, channel: str) -> None:
    assert SourceCreate(name="s", kind=SourceKind(kind)).default_channel == channel


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "server"}, "a source needs a name"),
        ({"name": "erp", "kind": "server"}, "a server source needs a default_channel"),
        ({"name": "web", "kind": "web", "store_code": "TPE-XINYI"}, "only a pos source belongs to a store"),
        ({"name": "web shop", "kind": "web"}, "String should match pattern"),
        ({"name": "x" * 65, "kind": "web"}, "String should have at most 64 characters"),
        ({"name": "web", "kind": "email"}, "Input should be 'web', 'app', 'pos', 'crm', 'marketplace'"),
        ({"name": "web", "kind": "web", "default_channel": "Web Shop"}, "String should match pattern"),
    ],
    ids=[
        "no-name",
        "server-without-channel",
        "store-on-web",
        "space-in-name",
        "long-name",
        "bad-kind",
        "bad-channel",
    ],
)
def test_bad_sources_are_refused_with_the_rule(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SourceCreate.model_validate(fields)
    assert message in str(caught.value)


def test_a_server_source_takes_the_channel_it_is_given() -> None:
    assert SourceCreate(name="erp", kind=SourceKind.SERVER, default_channel="web").default_channel == "web"


def _omni(*args: str, database_url: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OMNI_")}
    environment |= {"OMNI_DATA_DIR": str(tmp), "OMNI_DATABASE_URL": database_url, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "omni", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_cli_creates_lists_and_revokes_sources(committed: Database, tmp_path: Path) -> None:
    # given a source created on the command line
    created = _omni(
        "sources", "create", "--kind", "pos", "--store", "TPE-XINYI", database_url=committed.url, tmp=tmp_path
    )
    assert created.returncode == 0, created.stderr
    write_key = created.stdout.strip().splitlines()[-1]
    assert created.stdout.startswith("created source TPE-XINYI (pos:TPE-XINYI, channel pos)")
    with committed.unit_of_work() as session:
        assert events_sources.authenticate(session, write_key) is not None
    # when it is listed, only the key's prefix shows
    listed = _omni("sources", "list", database_url=committed.url, tmp=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert write_key[:10] in listed.stdout
    assert write_key not in listed.stdout
    # and when it is revoked, its key stops working
    revoked = _omni("sources", "revoke", "TPE-XINYI", database_url=committed.url, tmp=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.startswith("revoked TPE-XINYI")
    with committed.unit_of_work() as session:
        assert events_sources.authenticate(session, write_key) is None
    assert "TPE-XINYI" not in _omni("sources", "list", database_url=committed.url, tmp=tmp_path).stdout
    assert "TPE-XINYI" in _omni("sources", "list", "--all", database_url=committed.url, tmp=tmp_path).stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("sources", "create", "--kind", "server", "--name", "erp"),
            "error: source: Value error, a server source",
        ),
        (("sources", "revoke", "nope"), "error: there is no source named nope"),
        (("sources", "create", "--kind", "shop", "--name", "x"), "Invalid value for '--kind'"),
    ],
    ids=["server-without-channel", "unknown-source", "unknown-kind"],
)
def test_cli_mistakes_stop_with_one_line(
    args: tuple[str, ...], expected: str, committed: Database, tmp_path: Path
) -> None:
    result = _omni(*args, database_url=committed.url, tmp=tmp_path)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
