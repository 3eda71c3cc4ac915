"""Login throttling: atomic under parallel guesses, slower with each failure, no lock-out by strangers, proxies."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from ipaddress import ip_network

import pytest
from fastapi.testclient import TestClient

from config import clock
from models.throttle import ACCOUNT, PAIR, LoginThrottle
from tests.web.conftest import PASSWORD
from web import auth
from web.app import create_app
from web.auth import TooManyAttempts, authenticate, client_address


def _client(app, address: str = "203.0.113.7") -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def _login(client: TestClient, email: str, password: str, forwarded_for: str | None = None):  # type: ignore[no-untyped-def]
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password}, headers=headers)


@pytest.fixture
def checked(monkeypatch):  # type: ignore[no-untyped-def]
    """How many passwords were checked (argon2 run)."""
    calls: list[str] = []
    lock = threading.Lock()
    verify = auth.verify_password

    def counting(password, password_hash):  # type: ignore[no-untyped-def]
        with lock:
            calls.append(password)
        return verify(password, password_hash)

    monkeypatch.setattr(auth, "verify_password", counting)
    return calls


def test_forty_parallel_guesses_check_at_most_the_limit(world, app, checked):
    clients = [_client(app) for _ in range(40)]
    tokens = [c.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0] for c in clients]
    start = threading.Barrier(40)

    def guess(n: int) -> int:
        start.wait()
        return clients[n].post("/login", data={"csrf_token": tokens[n], "email": "lead@fgw.gov.cn",
                                               "password": f"guess {n}"}).status_code

    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(guess, range(40)))
    assert len(checked) == PAIR.free
    assert sorted(codes) == [401] * PAIR.free + [429] * (40 - PAIR.free)


def test_failures_then_wait_that_doubles(world, app, checked, now):
    client = _client(app)
    for _ in range(PAIR.free):
        assert _login(client, "lead@fgw.gov.cn", "wrong password").status_code == 401
    refused = _login(client, "lead@fgw.gov.cn", PASSWORD)  # even the right password waits now
    assert refused.status_code == 429 and "请1分钟后再试" in refused.text
    with clock.frozen(now + timedelta(minutes=1)):
        assert _login(client, "lead@fgw.gov.cn", "wrong again").status_code == 401
        assert "请2分钟后再试" in _login(client, "lead@fgw.gov.cn", PASSWORD).text
    with clock.frozen(now + timedelta(minutes=3)):
        assert _login(client, "lead@fgw.gov.cn", PASSWORD).status_code == 303
    assert len(checked) == PAIR.free + 2
    assert _login(_client(app, "198.51.100.1"), "co@czj.gov.cn", PASSWORD).status_code == 303  # others unaffected


def test_a_correct_password_resets_the_count(world, app):
    client = _client(app)
    for _ in range(PAIR.free - 1):
        assert _login(client, "lead@fgw.gov.cn", "wrong password").status_code == 401
    assert _login(client, "lead@fgw.gov.cn", PASSWORD).status_code == 303
    for _ in range(PAIR.free):
        assert _login(_client(app), "lead@fgw.gov.cn", "wrong password").status_code == 401


def test_a_stranger_guessing_from_elsewhere_does_not_lock_out_a_known_address(world, session, now):
    authenticate(session, "lead@fgw.gov.cn", PASSWORD, "10.1.1.1", now)  # the office: now a known address
    session.commit()
    for n in range(ACCOUNT.free):  # spread over addresses, each under its own limit
        with pytest.raises(auth.BadCredentials):
            authenticate(session, "lead@fgw.gov.cn", "guess", f"198.51.100.{n}", now)
        session.commit()
    with pytest.raises(TooManyAttempts):  # the account's budget is spent for strangers
        authenticate(session, "lead@fgw.gov.cn", PASSWORD, "198.51.100.200", now)
    assert authenticate(session, "lead@fgw.gov.cn", PASSWORD, "10.1.1.1", now).email == "lead@fgw.gov.cn"


def test_many_accounts_from_one_address_are_limited(world, session, now):
    from models.throttle import ADDRESS

    for n in range(ADDRESS.free):
        with pytest.raises(auth.BadCredentials):
            authenticate(session, f"guess{n}@example.gov.cn", "guess", "198.51.100.9", now)
        session.commit()
    with pytest.raises(TooManyAttempts):
        authenticate(session, "lead@fgw.gov.cn", PASSWORD, "198.51.100.9", now)


def test_the_wait_stops_growing_at_an_hour_and_a_quiet_day_forgets(world, session, now):
    session.add(LoginThrottle(key="pair:lead@fgw.gov.cn 198.51.100.9", failures=30, last_at=now))
    session.commit()
    with pytest.raises(TooManyAttempts) as refused:
        authenticate(session, "lead@fgw.gov.cn", PASSWORD, "198.51.100.9", now + timedelta(minutes=59))
    assert refused.value.params == {"minutes": 1}
    with pytest.raises(auth.BadCredentials):  # an hour after the last failure: checked again
        authenticate(session, "lead@fgw.gov.cn", "wrong", "198.51.100.9", now + timedelta(hours=1))
    session.commit()
    quiet = now + timedelta(days=1, hours=1, minutes=1)
    for _ in range(PAIR.free - 1):
        with pytest.raises(auth.BadCredentials):
            authenticate(session, "lead@fgw.gov.cn", "wrong", "198.51.100.9", quiet)
        session.commit()
    assert authenticate(session, "lead@fgw.gov.cn", PASSWORD, "198.51.100.9", quiet).email == "lead@fgw.gov.cn"


def test_a_forwarded_for_header_is_ignored_without_trusted_proxies(world, app):
    client = _client(app, "127.0.0.1")  # loopback: what uvicorn would have believed
    for n in range(PAIR.free):
        assert _login(client, "lead@fgw.gov.cn", "wrong", forwarded_for=f"192.0.2.{n}").status_code == 401
    assert _login(client, "lead@fgw.gov.cn", PASSWORD, forwarded_for="192.0.2.99").status_code == 429


def test_a_trusted_proxy_names_the_client(world, web_settings):
    app = create_app(web_settings.model_copy(update={"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}))
    try:
        client = _client(app, "127.0.0.1")
        for _ in range(PAIR.free):
            assert _login(client, "lead@fgw.gov.cn", "wrong", forwarded_for="192.0.2.1, 10.0.0.5").status_code == 401
        assert _login(client, "lead@fgw.gov.cn", PASSWORD, forwarded_for="192.0.2.1").status_code == 429
        assert _login(client, "lead@fgw.gov.cn", PASSWORD, forwarded_for="192.0.2.2").status_code == 303
    finally:
        app.state.engine.dispose()


TRUSTED = (ip_network("10.0.0.0/8"), ip_network("::1/128"))


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("203.0.113.7", "1.2.3.4", "203.0.113.7"),  # not from a proxy: the header is the client's own words
    ("10.0.0.2", "1.2.3.4", "1.2.3.4"),
    ("10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the left part is whatever the client sent
    ("10.0.0.2", "1.2.3.4, 10.0.0.9", "1.2.3.4"),  # two proxies
    ("::1", "2001:db8::1", "2001:db8::1"),
    ("10.0.0.2", "not an address", "not an address"),
    ("10.0.0.2", None, "10.0.0.2"),
    (None, "1.2.3.4", "unknown"),
])
def test_client_address(peer, header, expected):
    assert client_address(peer, header, TRUSTED) == expected
    assert client_address(peer, header, ()) == (peer or "unknown")


def test_trusted_proxies_must_be_addresses(web_settings):
    from pydantic import ValidationError

    from config.settings import Settings

    assert Settings(trusted_proxies="10.0.0.1, 172.16.0.0/12").trusted_proxies == ["10.0.0.1", "172.16.0.0/12"]
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings(trusted_proxies=["proxy.example"])
