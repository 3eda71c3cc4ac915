"""Web fixtures: the app on a clean database, a cast of people and items, clients logged in as each."""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from sqlmodel import Session

from config import clock
from config.settings import Settings
from models.accounts import hash_password, start_web_session
from models.tables import Item, Person, Role, Unit
from tests.factories import make_document, make_item, make_person, make_unit
from web.app import create_app

PASSWORD = "correct horse battery"
SECRET = "test-secret-key-for-duban-web-tests"
SCRIPT_TITLE = "<script>alert('x')</script>"


@functools.cache
def password_hash() -> str:
    """argon2id takes a quarter of a second: hash the shared test password once per run."""
    return hash_password(PASSWORD)


@pytest.fixture(autouse=True)
def frozen_clock(now: datetime) -> Iterator[datetime]:
    with clock.frozen(now) as at:
        yield at


@pytest.fixture
def web_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path / "data", secret_key=SECRET)  # type: ignore[arg-type]


@pytest.fixture
def app(web_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(web_settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def anon(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


@dataclass
class World:
    units: dict[str, Unit]
    people: dict[str, Person]
    items: dict[str, Item]


@pytest.fixture
def world(session: Session) -> World:
    """Three units; an item of each kind of ownership; one person of each role (and unit)."""
    fgw, czj, swj = make_unit(session, "市发改委"), make_unit(session, "市财政局"), make_unit(session, "市商务局")
    hashed = password_hash()
    people = {
        "lead": make_person(session, Role.OFFICER, fgw, email="lead@fgw.gov.cn", password_hash=hashed),
        "co": make_person(session, Role.OFFICER, czj, email="co@czj.gov.cn", password_hash=hashed),
        "other": make_person(session, Role.OFFICER, swj, email="other@swj.gov.cn", password_hash=hashed),
        "sup": make_person(session, Role.SUPERVISOR, email="sup@dc.gov.cn", password_hash=hashed),
        "sup2": make_person(session, Role.SUPERVISOR, email="sup2@dc.gov.cn", password_hash=hashed),
        "leader": make_person(session, Role.LEADER, email="leader@dc.gov.cn", password_hash=hashed),
        "admin": make_person(session, Role.ADMIN, email="admin@dc.gov.cn", password_hash=hashed),
    }
    document = make_document(session, "新时代意见")
    items = {
        # lead 发改委, co 财政局, supervised by sup
        "ours": make_item(session, document=document, lead_unit=fgw, co_units=(czj,), supervisor=people["sup"],
                          number="1", title="推进营商环境改革", deadline=date(2024, 6, 30)),
        # lead 商务局, supervised by sup2
        "theirs": make_item(session, document=document, lead_unit=swj, supervisor=people["sup2"],
                            number="2", title="扩大对外开放", deadline=date(2024, 5, 31)),
        # lead 商务局, no supervisor
        "unsupervised": make_item(session, document=document, lead_unit=swj, number="3",
                                  title="稳外贸稳外资", deadline=date(2024, 6, 5)),
    }
    session.commit()
    return World({"fgw": fgw, "czj": czj, "swj": swj}, people, items)


def session_cookie(data: dict[str, object]) -> str:
    """What Starlette's SessionMiddleware would set for `data` (signed with the test secret)."""
    payload = base64.b64encode(json.dumps(data).encode())
    return TimestampSigner(SECRET).sign(payload).decode()


CSRF = "test-csrf-token"


def login_cookie(app: FastAPI, person: Person) -> str:
    """A session cookie for `person`, logged in now (with its row in web_session) and CSRF as token."""
    with Session(app.state.engine) as session:
        session_id = start_web_session(session, person, clock.now())
        session.commit()
    return session_cookie({"sid": session_id, "csrf": CSRF})


@pytest.fixture
def client_for(app: FastAPI) -> Callable[[Person], TestClient]:
    """A client already logged in as `person` (skips argon2: the login itself has its own tests)."""

    def make(person: Person) -> TestClient:
        client = TestClient(app, base_url="http://testserver.local", follow_redirects=False)
        client.cookies.set("duban_session", login_cookie(app, person), domain="testserver.local", path="/")
        return client

    return make


CHROMIUM = Path("/usr/bin/chromium")


def chromium_executable() -> str:
    """Debian's chromium for the browser tests: skipped without it, except in CI (CI=true) where that fails."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return str(CHROMIUM)
