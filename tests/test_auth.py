"""Accounts, sessions and access tokens, through the real HTTP endpoint."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.graphql_client import (
    CREATE_SPECIALTY,
    LOGIN,
    REGISTER,
    Api,
    GraphQL,
    Person,
    Response,
    future_day,
    unique,
)
from tests.servers import ACCESS_TOKEN_TTL_SECONDS, TEST_JWT_SECRET

ISSUER = "aayulink-booking"
AUDIENCE = "aayulink-clients"
PASSWORD = "correct-horse-battery"

ME = "query { me { id email name role } }"
REFRESH = """mutation($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) {
    accessToken refreshToken tokenType expiresIn user { id role }
  }
}"""
LOGOUT = "mutation($refreshToken: String!) { logout(refreshToken: $refreshToken) }"
APPOINTMENTS = "query { appointments { edges { node { id } } } }"
SLOTS = """query($doctorId: ID!, $from: Date!, $to: Date!) {
  slots(doctorId: $doctorId, from: $from, to: $to) { id }
}"""


def new_email() -> str:
    return f"{unique('auth')}@example.com"


async def register(
    gql: GraphQL, email: str, password: str = PASSWORD, name: str = "Ann"
) -> Response:
    return await gql(REGISTER, {"input": {"email": email, "password": password, "name": name}})


async def registered(gql: GraphQL) -> Person:
    email = new_email()
    data = (await register(gql, email)).data["register"]
    return Person(data["user"]["id"], data["accessToken"], data["refreshToken"], email)


async def login(gql: GraphQL, email: str, password: str = PASSWORD) -> Response:
    return await gql(LOGIN, {"email": email, "password": password})


async def refresh(gql: GraphQL, token: str) -> Response:
    return await gql(REFRESH, {"refreshToken": token})


def claims(user_id: str, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "role": "PATIENT",
        "iat": now,
        "exp": now + timedelta(minutes=10),
    }
    base.update(overrides)
    return base


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def me_with_header(gql: GraphQL, header: str) -> Response:
    reply = await gql.http.post(gql.url, json={"query": ME}, headers={"Authorization": header})
    return Response(reply.json(), reply.status_code)


# --- register -------------------------------------------------------------------------------


async def test_register_creates_a_patient_session(gql: GraphQL) -> None:
    email = new_email()
    payload = (await register(gql, email, name="  Asha Rao  ")).data["register"]
    assert payload["user"]["role"] == "PATIENT"
    assert payload["user"]["email"] == email
    assert payload["tokenType"] == "Bearer"
    assert payload["expiresIn"] == ACCESS_TOKEN_TTL_SECONDS
    assert payload["accessToken"] and payload["refreshToken"]
    me = (await gql(ME, token=payload["accessToken"])).data["me"]
    assert me == {
        "id": payload["user"]["id"],
        "email": email,
        "name": "Asha Rao",
        "role": "PATIENT",
    }


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda e: e, id="same"),
        pytest.param(lambda e: e.upper(), id="upper-case"),
        pytest.param(lambda e: f"  {e}  ", id="surrounding-spaces"),
        pytest.param(lambda e: f" {e[0].upper()}{e[1:]}\t", id="mixed"),
    ],
)
async def test_register_refuses_a_taken_email(gql: GraphQL, store: Any, variant: Any) -> None:
    email = new_email()
    await register(gql, email)
    again = await register(gql, variant(email))
    assert again.code == "CONFLICT"
    assert again.error["extensions"]["field"] == "email"
    assert again.body.get("data") is None
    assert await store["users"].count_documents({"email": email}) == 1


@pytest.mark.parametrize(
    "email", ["not-an-email", "a@b", "@example.com", "two@@example.com", "", "x" * 250 + "@e.com"]
)
async def test_register_refuses_an_invalid_email(gql: GraphQL, email: str) -> None:
    reply = await register(gql, email)
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "email"


async def test_register_refuses_a_short_password_and_stores_nothing(
    gql: GraphQL, store: Any
) -> None:
    email = new_email()
    reply = await register(gql, email, password="short")
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "password"
    assert await store["users"].count_documents({"email": email}) == 0
    # Nothing half-made blocks a correct second attempt.
    assert (await register(gql, email)).data["register"]["user"]["email"] == email


async def test_register_refuses_an_overlong_name(gql: GraphQL) -> None:
    reply = await register(gql, new_email(), name="n" * 121)
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "name"


async def test_register_refuses_a_blank_name(gql: GraphQL) -> None:
    reply = await register(gql, new_email(), name="   ")
    assert reply.code == "BAD_USER_INPUT"
    assert reply.error["extensions"]["field"] == "name"


# --- login ----------------------------------------------------------------------------------


async def test_login_succeeds_with_any_case_of_the_email(gql: GraphQL) -> None:
    person = await registered(gql)
    payload = (await login(gql, f" {person.email.upper()} ")).data["login"]
    assert payload["user"] == {"id": person.id, "role": "PATIENT"}
    me = (await gql(ME, token=payload["accessToken"])).data["me"]
    assert me["id"] == person.id


async def test_login_failures_do_not_tell_whether_the_email_exists(gql: GraphQL) -> None:
    person = await registered(gql)
    wrong_password = await login(gql, person.email, "not-the-password")
    unknown_email = await login(gql, new_email(), "not-the-password")
    assert wrong_password.code == unknown_email.code == "UNAUTHENTICATED"
    assert wrong_password.error["message"] == unknown_email.error["message"]
    assert wrong_password.error["extensions"] == unknown_email.error["extensions"]


# --- me -------------------------------------------------------------------------------------


async def test_me_is_the_caller_or_null(gql: GraphQL) -> None:
    person = await registered(gql)
    assert (await gql(ME, token=person.token)).data["me"]["email"] == person.email
    assert (await gql(ME)).data["me"] is None


# --- refresh and logout ---------------------------------------------------------------------


async def test_refresh_rotates_and_the_old_token_stops_working(gql: GraphQL) -> None:
    person = await registered(gql)
    rotated = (await refresh(gql, person.refresh_token)).data["refreshToken"]
    assert rotated["refreshToken"] != person.refresh_token
    assert rotated["tokenType"] == "Bearer"
    assert rotated["expiresIn"] == ACCESS_TOKEN_TTL_SECONDS
    assert rotated["user"]["id"] == person.id
    assert (await gql(ME, token=rotated["accessToken"])).data["me"]["id"] == person.id

    again = await refresh(gql, person.refresh_token)
    assert again.code == "UNAUTHENTICATED"


async def test_reusing_a_rotated_refresh_token_revokes_its_family(gql: GraphQL) -> None:
    person = await registered(gql)
    other_session = (await login(gql, person.email)).data["login"]["refreshToken"]
    second = (await refresh(gql, person.refresh_token)).data["refreshToken"]["refreshToken"]
    third = (await refresh(gql, second)).data["refreshToken"]["refreshToken"]

    reuse = await refresh(gql, person.refresh_token)
    assert reuse.code == "UNAUTHENTICATED"
    # The newest token of that family was never presented, yet it is revoked too.
    assert (await refresh(gql, third)).code == "UNAUTHENTICATED"
    # Another login of the same user is a different family and keeps working.
    assert (await refresh(gql, other_session)).data["refreshToken"]["user"]["id"] == person.id


async def test_refresh_refuses_an_unknown_token(gql: GraphQL) -> None:
    assert (await refresh(gql, "never-issued-token")).code == "UNAUTHENTICATED"
    assert (await refresh(gql, "")).code == "UNAUTHENTICATED"


async def test_logout_revokes_the_refresh_token(gql: GraphQL) -> None:
    person = await registered(gql)
    assert (await gql(LOGOUT, {"refreshToken": person.refresh_token})).data["logout"] is True
    assert (await refresh(gql, person.refresh_token)).code == "UNAUTHENTICATED"


async def test_logout_revokes_the_rotated_successor_too(gql: GraphQL) -> None:
    person = await registered(gql)
    newest = (await refresh(gql, person.refresh_token)).data["refreshToken"]["refreshToken"]
    assert (await gql(LOGOUT, {"refreshToken": newest})).data["logout"] is True
    assert (await refresh(gql, newest)).code == "UNAUTHENTICATED"


# --- access tokens --------------------------------------------------------------------------


async def test_a_correctly_crafted_token_is_accepted(gql: GraphQL) -> None:
    """The control for the refusals below: the same recipe with nothing wrong works."""
    person = await registered(gql)
    token = jwt.encode(claims(person.id), TEST_JWT_SECRET, algorithm="HS256")
    assert (await gql(ME, token=token)).data["me"]["id"] == person.id


async def test_an_expired_token_is_refused(gql: GraphQL) -> None:
    person = await registered(gql)
    past = datetime.now(UTC) - timedelta(hours=1)
    token = jwt.encode(
        claims(person.id, iat=past - timedelta(minutes=15), exp=past),
        TEST_JWT_SECRET,
        algorithm="HS256",
    )
    reply = await gql(ME, token=token)
    assert reply.code == "UNAUTHENTICATED"
    assert reply.body["data"] is None or reply.body["data"]["me"] is None


async def test_a_tampered_token_is_refused(gql: GraphQL) -> None:
    person = await registered(gql)
    header, payload, signature = person.token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["role"] = "ADMIN"
    forged = f"{header}.{b64url(json.dumps(body).encode())}.{signature}"
    assert (await gql(ME, token=forged)).code == "UNAUTHENTICATED"
    flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    assert (await gql(ME, token=f"{header}.{payload}.{flipped}")).code == "UNAUTHENTICATED"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_an_unsigned_alg_none_token_is_refused(gql: GraphQL, alg: str) -> None:
    person = await registered(gql)
    body = claims(person.id, role="ADMIN")
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in body.items()}
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    token = f"{header}.{b64url(json.dumps(body).encode())}."
    assert (await gql(ME, token=token)).code == "UNAUTHENTICATED"
    specialty = await gql(CREATE_SPECIALTY, {"input": {"name": unique("None ")}}, token)
    assert specialty.code == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("overrides", "secret", "algorithm"),
    [
        pytest.param({"aud": "someone-else"}, TEST_JWT_SECRET, "HS256", id="wrong-audience"),
        pytest.param({"iss": "someone-else"}, TEST_JWT_SECRET, "HS256", id="wrong-issuer"),
        pytest.param({}, "another-secret-of-enough-length-0123456789", "HS256", id="other-secret"),
        pytest.param(
            {},
            TEST_JWT_SECRET,
            "HS512",
            id="other-algorithm",
            marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
        ),
        pytest.param({"role": "SUPERUSER"}, TEST_JWT_SECRET, "HS256", id="unknown-role"),
        pytest.param({"sub": "not-an-object-id"}, TEST_JWT_SECRET, "HS256", id="bad-subject"),
        pytest.param(
            {"nbf": datetime.now(UTC) + timedelta(hours=1)},
            TEST_JWT_SECRET,
            "HS256",
            id="not-yet-valid",
        ),
    ],
)
async def test_a_token_with_a_wrong_claim_or_key_is_refused(
    gql: GraphQL, overrides: dict[str, Any], secret: str, algorithm: str
) -> None:
    person = await registered(gql)
    token = jwt.encode(claims(person.id, **overrides), secret, algorithm=algorithm)
    assert (await gql(ME, token=token)).code == "UNAUTHENTICATED"


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", "sub", "role"])
async def test_a_token_missing_a_required_claim_is_refused(gql: GraphQL, missing: str) -> None:
    person = await registered(gql)
    body = claims(person.id)
    del body[missing]
    token = jwt.encode(body, TEST_JWT_SECRET, algorithm="HS256")
    assert (await gql(ME, token=token)).code == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Token abc", "abc.def.ghi"])
async def test_a_malformed_authorization_header_is_refused(gql: GraphQL, header: str) -> None:
    """A header that is present but wrong is an error, never silently anonymous."""
    assert (await me_with_header(gql, header)).code == "UNAUTHENTICATED"


async def test_a_bearer_scheme_in_any_case_is_accepted(gql: GraphQL) -> None:
    person = await registered(gql)
    reply = await me_with_header(gql, f"bearer {person.token}")
    assert reply.data["me"]["id"] == person.id


async def test_a_token_of_a_garbage_string_is_refused(gql: GraphQL) -> None:
    reply = await gql(ME, token="garbage")
    assert reply.code == "UNAUTHENTICATED"
    assert reply.status == 200


# --- role boundaries ------------------------------------------------------------------------


async def test_a_patient_cannot_create_a_specialty(api: Api, store: Any) -> None:
    patient = await api.patient()
    name = unique("Forbidden ")
    reply = await api.gql(CREATE_SPECIALTY, {"input": {"name": name}}, patient.token)
    assert reply.code == "FORBIDDEN"
    assert await store["specialties"].count_documents({"name": name}) == 0


async def test_anonymous_cannot_create_a_specialty(api: Api, store: Any) -> None:
    name = unique("Anonymous ")
    reply = await api.gql(CREATE_SPECIALTY, {"input": {"name": name}})
    assert reply.code == "UNAUTHENTICATED"
    assert await store["specialties"].count_documents({"name": name}) == 0


async def test_an_admin_can_create_a_specialty(api: Api) -> None:
    """The control for the two refusals above."""
    name = unique("Allowed ")
    reply = await api.gql(CREATE_SPECIALTY, {"input": {"name": name}}, api.admin.token)
    assert reply.data["createSpecialty"]["name"] == name


async def test_a_patient_cannot_list_appointments(api: Api) -> None:
    patient = await api.patient()
    assert (await api.gql(APPOINTMENTS, token=patient.token)).code == "FORBIDDEN"
    assert (await api.gql(APPOINTMENTS)).code == "UNAUTHENTICATED"


async def test_a_patient_cannot_list_a_doctors_slots(api: Api) -> None:
    clinic = await api.clinic()
    await api.slot(clinic)
    patient = await api.patient()
    variables = {"doctorId": clinic.doctor_id, "from": future_day(0), "to": future_day(14)}
    assert (await api.gql(SLOTS, variables, patient.token)).code == "FORBIDDEN"
    assert (await api.gql(SLOTS, variables)).code == "UNAUTHENTICATED"
    # The doctor itself may.
    assert len((await api.gql(SLOTS, variables, clinic.doctor_token)).data["slots"]) == 1
