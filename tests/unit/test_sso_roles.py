"""Who a signed-in identity is here: roles from the provider's claim, the agent id, the
routing domain, and which page each role may open."""

import pytest

from services.router.domain import sso
from services.router.domain.errors import Forbidden

pytestmark = pytest.mark.unit


def session(claims, **kw):
    options = {"roles_claim": "roles", "role_map": {}, "agent_claim": "preferred_username"} | kw
    return sso.session_of({"sub": "u1", **claims}, **options)


def test_roles_are_mapped_and_unknown_ones_ignored():
    s = session({"roles": ["cc-agents", "payroll"]}, role_map={"cc-agents": "agent"})
    assert s.roles == {"agent"} and not s.admin and not s.sees_ops


def test_without_a_map_our_role_names_count_and_a_string_claim_is_split():
    assert session({"roles": "supervisor ops"}).roles == {"supervisor", "ops"}


def test_nested_claims_as_keycloak_puts_them():
    s = session({"realm_access": {"roles": ["admin"]}, "preferred_username": "ann"}, roles_claim="realm_access.roles")
    assert s.admin and s.sees_ops and s.agent_id == "ann"


def test_no_role_here_is_refused():
    with pytest.raises(Forbidden, match="no Omniroute role"):
        session({"roles": ["payroll"]})
    with pytest.raises(Forbidden, match="no Omniroute role"):
        session({})


def test_the_domain_comes_from_its_claim_and_must_be_a_domain_name():
    assert session({"roles": ["agent"], "tenant": "acme"}, domain_claim="tenant").domain == "acme"
    assert session({"roles": ["agent"]}).domain == "default"
    with pytest.raises(Forbidden, match="routing domain"):
        session({"roles": ["agent"], "tenant": "no spaces allowed"}, domain_claim="tenant")


@pytest.mark.parametrize(("roles", "agent", "desktop", "ops"), [
    ({"agent"}, "ann", True, False),
    ({"supervisor"}, "sue", True, True),
    ({"ops"}, None, False, True),
    ({"admin"}, None, False, True),
    ({"agent"}, None, False, False),  # an agent role but no agent id: nothing to sign in as
])
def test_which_page_a_role_opens(roles, agent, desktop, ops):
    s = sso.Session("u1", frozenset(roles), agent)
    for page, allowed in (("desktop", desktop), ("ops", ops)):
        if allowed:
            sso.check_page(s, page)
        else:
            with pytest.raises(Forbidden):
                sso.check_page(s, page)


def test_only_a_desk_role_works_as_the_agent_its_claim_names():
    assert sso.Session("u1", frozenset({"ops"}), "bob").acts_as is None  # an ops user called bob is not agent bob
    assert sso.Session("u1", frozenset({"supervisor"}), "sue").acts_as == "sue"


def test_session_tokens_are_told_from_agent_tokens():
    token = sso.mint_session_token("acme")
    assert sso.is_session_token(token) and token.startswith("acme.")
    assert not sso.is_session_token("acme.abcdef") and not sso.is_session_token(None)
    assert sso.Session.from_dict(session({"roles": ["ops"]}).as_dict()).roles == {"ops"}
